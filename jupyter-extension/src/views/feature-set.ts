import { Dialog, showDialog, showErrorMessage } from "@jupyterlab/apputils";
import { formatNumber } from "../chart";
import { describeError, type OuroConnection } from "../connection";
import { badge, fill, h, table, when } from "../dom";
import {
  FeatureSetEventsDocument,
  FeatureSetOnlineDocument,
  FeatureSetPanelDocument,
  MaterializeFeatureSetNowDocument,
  type FeatureSetEventsQuery,
  type FeatureSetPanelQuery,
} from "../generated/graphql";
import { OuroPanel, type OuroItem } from "./panel";

type FeatureSet = FeatureSetPanelQuery["featureSet"];
type EventSource = FeatureSetEventsQuery["eventSource"];

const windowText = (minutes: number) => (minutes % 1440 === 0 ? `${minutes / 1440}d` : minutes % 60 === 0 ? `${minutes / 60}h` : `${minutes}m`);

/**
 * A feature set: keys, time column, features, where it is materialized, and a lookup box that
 * asks the online store for one entity (what serving sees). Event-fed sets also show their
 * fields and sliding-window aggregations.
 */
export class FeatureSetView extends OuroPanel {
  private featureSet: FeatureSet | null = null;
  private readonly keyInput = h("input", { type: "text", class: "ouro-lookup-key", "aria-label": "Entity key", spellcheck: "false" });
  private readonly lookupResult = h("div", { class: "ouro-lookup-result" });

  constructor(connection: OuroConnection, featureSetId: string, label: string, private readonly open: (item: OuroItem) => void) {
    super(connection, { kind: "featureSet", id: featureSetId, label });
    this.keyInput.addEventListener("keydown", (e) => {
      if (e.key === "Enter") void this.lookup();
    });
  }

  protected async load(): Promise<void> {
    const { featureSet: f } = await this.client.request(FeatureSetPanelDocument, { id: this.item.id }, { signal: this.signal });
    this.featureSet = f;
    this.item.projectId = f.projectId;
    this.title.label = `Feature set ${f.name}`;
    // Event-fed sets have no source dataset; their definition lives in the event source.
    let events: EventSource | null = null;
    if (!f.sourceDatasetId) {
      try {
        events = (await this.client.request(FeatureSetEventsDocument, { id: f.id }, { signal: this.signal })).eventSource;
      } catch (err) {
        if ((err as { code?: string }).code !== "BAD_USER_INPUT") throw err;
      }
    }
    this.node.dataset.ouroFeatureSetKind = events ? "events" : "batch";
    const state = events ? "live" : f.materializedAt ? "materialized" : "not_materialized";
    fill(
      this.header,
      h(
        "div",
        { class: "ouro-title" },
        h("span", { class: "ouro-kind" }, events ? "Event feature set" : "Feature set"),
        h("strong", {}, f.name),
        badge(state),
        events ? null : h("span", { class: "ouro-actions" }, h("button", { class: "jp-mod-styled ouro-small", "data-ouro-action": "materialize", onclick: () => void this.materialize() }, "Materialize…")),
      ),
      h(
        "div",
        { class: "ouro-meta" },
        `entity key${f.entityKeys.length > 1 ? "s" : ""} ${f.entityKeys.join(", ")} · time column ${f.timestampColumn ?? "–"} · created ${when(f.createdAt)}`,
      ),
    );
    this.keyInput.placeholder = f.entityKeys.length > 1 ? `${f.entityKeys.join(", ")} as a JSON array, e.g. ["a", 1]` : `${f.entityKeys[0] ?? "key"} value`;
    fill(
      this.body,
      h("h3", {}, "Online lookup"),
      h(
        "div",
        { class: "ouro-lookup" },
        this.keyInput,
        h("button", { class: "jp-mod-styled jp-mod-accept ouro-small", "data-ouro-action": "lookup", onclick: () => void this.lookup() }, "Look up"),
      ),
      this.lookupResult,
      h("h3", {}, `Features (${f.features.length})`),
      f.features.length ? h("div", { class: "ouro-feature-list" }, ...f.features.map((n) => h("code", {}, n))) : h("div", { class: "ouro-empty" }, "Known after the first materialization."),
      events ? this.renderEvents(events) : this.renderMaterialization(f),
    );
  }

  private renderMaterialization(f: FeatureSet): HTMLElement {
    return h(
      "div",
      {},
      h("h3", {}, "Materialization"),
      table(null, [
        ["state", f.materializedAt ? `materialized ${when(f.materializedAt)}` : "not materialized yet"],
        ["offline store", f.offlineDatasetId ? h("a", { href: "#", onclick: (e: Event) => (e.preventDefault(), this.open({ kind: "dataset", id: f.offlineDatasetId!, label: `${f.name} (offline)`, projectId: f.projectId })) }, `dataset ${f.offlineDatasetId}`) : "–"],
        ["offline version", f.materializedVersionId ?? "–"],
        ["source", f.sourceDatasetId ? h("a", { href: "#", onclick: (e: Event) => (e.preventDefault(), this.open({ kind: "dataset", id: f.sourceDatasetId!, label: "source", projectId: f.projectId })) }, `dataset ${f.sourceDatasetId}`) : "–"],
        ["source version", f.sourceVersionId ?? "latest"],
        ["recipe", f.recipeId ?? "none"],
        ["re-materializes on new data", f.autoMaterialize ? "yes" : "no"],
      ]),
    );
  }

  private renderEvents(e: EventSource): HTMLElement {
    return h(
      "div",
      {},
      h("h3", {}, "Windows"),
      table(
        ["feature", "function", "field", "window"],
        e.aggregations.map((a) => [a.name, a.function, a.field ?? "–", windowText(a.windowMinutes)]),
        "ouro-table ouro-windows",
      ),
      h("h3", {}, "Events"),
      table(null, [
        ["event id", e.eventIdColumn],
        ["event time", e.eventTimeColumn],
        ["fields", e.fields.map((x) => `${x.name} (${x.type})`).join(", ")],
        ["watermark", e.watermark ? when(e.watermark) : "no events yet"],
        ["allowed lateness", `${formatNumber(e.allowedLatenessSeconds)} s`],
        ["max future skew", `${formatNumber(e.maxFutureSkewSeconds)} s`],
      ]),
    );
  }

  /** Asks the online store for the entered key; unknown keys come back with no values. */
  private async lookup(): Promise<void> {
    const key = this.keyInput.value.trim();
    if (!key) {
      fill(this.lookupResult, h("div", { class: "ouro-error", "data-ouro-error": "lookup" }, "Enter an entity key first."));
      return;
    }
    delete this.lookupResult.dataset.ouroLookup;
    fill(this.lookupResult, h("div", { class: "ouro-loading" }, "Looking up…"));
    try {
      const { onlineFeatures } = await this.client.request(FeatureSetOnlineDocument, { id: this.item.id, keys: [key] }, { signal: this.signal });
      const row = onlineFeatures[0];
      // Values exactly as the online store holds them (what serving gets), not rounded for display.
      if (!row?.values) {
        fill(this.lookupResult, h("div", { class: "ouro-empty", "data-ouro-lookup": "unknown" }, `No online values for ${key}: the entity is unknown (or the set is not materialized yet).`));
        return;
      }
      fill(
        this.lookupResult,
        h("div", { class: "ouro-meta" }, `key ${row.key}${row.eventTime ? ` · as of ${when(row.eventTime)}` : ""}`),
        table(["feature", "value"], Object.entries(row.values).map(([k, v]) => [k, h("span", { "data-ouro-feature": k }, typeof v === "object" && v !== null ? JSON.stringify(v) : String(v))]), "ouro-table ouro-online"),
      );
      this.lookupResult.dataset.ouroLookup = JSON.stringify(row.values);
    } catch (err) {
      fill(this.lookupResult, h("div", { class: "ouro-error", "data-ouro-error": "lookup" }, describeError(err, "The feature set")));
    }
  }

  /** A deleted object keeps its header for context, without actions that can no longer work. */
  protected override fail(err: unknown): void {
    super.fail(err);
    if (this.gone) this.header.querySelector(".ouro-actions")?.remove();
  }

  private async materialize(): Promise<void> {
    const f = this.featureSet;
    if (!f) return;
    const confirm = await showDialog({
      title: "Materialize feature set?",
      body: `Compute ${f.name} from its source now? This writes a new offline version and replaces the online values per entity.`,
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: "Materialize" })],
    });
    if (!confirm.button.accept) return;
    try {
      const { materializeFeatureSet: job } = await this.client.request(MaterializeFeatureSetNowDocument, { id: f.id });
      this.setMessage(`Materialization job ${job.id} ${job.status}.`, "live");
      this.open({ kind: "job", id: job.id, label: job.kind, projectId: f.projectId });
    } catch (err) {
      await showErrorMessage("Not materialized", describeError(err, "The feature set"));
    }
  }
}
