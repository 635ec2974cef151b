import { showErrorMessage } from "@jupyterlab/apputils";
import { launchTraining } from "../actions";
import { launchSearch } from "../hpo";
import { barChart, formatNumber } from "../chart";
import { describeError, type OuroConnection } from "../connection";
import { h, table, when, fill } from "../dom";
import { DatasetPanelDocument, DatasetVersionPanelDocument, ProfileDatasetDocument, type DatasetVersionPanelQuery } from "../generated/graphql";
import { OuroPanel, type OuroItem } from "./panel";

type Version = DatasetVersionPanelQuery["datasetVersion"];
type Opener = (item: OuroItem) => void;

interface ColumnProfile {
  name: string;
  type: string;
  nullFraction?: number;
  distinct?: number;
  numeric?: { min: number | null; max: number | null; mean: number | null; histogram?: { edges: number[]; counts: number[] } };
  categorical?: { top: { value: string; count: number }[]; otherCount: number };
}

/** A dataset: its versions, and for the chosen one the schema, a preview and the profile. */
export class DatasetView extends OuroPanel {
  private version: Version | null = null;
  private readonly versionSelect = h("select", { class: "ouro-version-select" });

  constructor(connection: OuroConnection, datasetId: string, label: string, private readonly open: Opener) {
    super(connection, { kind: "dataset", id: datasetId, label });
    this.versionSelect.addEventListener("change", () => void this.showVersion(this.versionSelect.value).catch((err) => this.fail(err)));
  }

  protected async load(): Promise<void> {
    const { dataset } = await this.client.request(DatasetPanelDocument, { id: this.item.id }, { signal: this.signal });
    this.item.projectId = dataset.projectId;
    this.title.label = `Dataset ${dataset.name}`;
    const versions = dataset.versions.nodes;
    this.versionSelect.replaceChildren(...versions.map((v) => h("option", { value: v.id }, `v${v.version} · ${formatNumber(v.rowCount)} rows · ${when(v.createdAt)}`)));
    fill(this.header, 
      h("div", { class: "ouro-title" }, h("span", { class: "ouro-kind" }, "Dataset"), h("strong", {}, dataset.name)),
      dataset.description ? h("div", { class: "ouro-meta" }, dataset.description) : null,
      h(
        "div",
        { class: "ouro-actions" },
        this.versionSelect,
        h("button", { class: "jp-mod-styled jp-mod-accept", "data-ouro-action": "train", onclick: () => void this.train() }, "Train a model…"),
        h("button", { class: "jp-mod-styled", "data-ouro-action": "search", title: "Train several models over a search space and keep the best", onclick: () => void this.search() }, "Search hyperparameters…"),
        h("button", { class: "jp-mod-styled", "data-ouro-action": "profile", onclick: () => void this.profile() }, "Profile"),
      ),
    );
    if (!versions.length) {
      fill(this.body, h("div", { class: "ouro-empty" }, "This dataset has no versions yet."));
      return;
    }
    await this.showVersion(versions[0].id);
  }

  private async showVersion(id: string): Promise<void> {
    const { datasetVersion: v } = await this.client.request(DatasetVersionPanelDocument, { id }, { signal: this.signal });
    this.version = v;
    this.item.label = `${this.title.label} v${v.version}`;
    const profile = (v.profile ?? null) as { columns?: ColumnProfile[]; profiledAt?: string } | null;
    fill(this.body, 
      h("div", { class: "ouro-meta" }, `v${v.version} · ${formatNumber(v.rowCount)} rows · ${formatNumber(Math.round(v.byteSize / 1024))} KiB · ${when(v.createdAt)}`),
      h("h3", {}, "Schema"),
      table(["column", "type", "nullable"], v.schema.map((c) => [c.name, c.type, c.nullable ? "yes" : "no"])),
      h("h3", {}, `Preview (${v.preview.rows.length} of ${formatNumber(v.preview.totalRows)} rows)`),
      h("div", { class: "ouro-scroll" }, table(v.preview.columns, v.preview.rows.map((r) => v.preview.columns.map((c) => formatNumber(r[c]))), "ouro-table ouro-preview")),
      h("h3", {}, "Profile"),
      profile?.columns ? this.profileGrid(profile.columns) : h("div", { class: "ouro-empty" }, "Not profiled yet: use Profile above to compute column statistics and histograms."),
    );
  }

  private profileGrid(columns: ColumnProfile[]): HTMLElement {
    return h(
      "div",
      { class: "ouro-profile" },
      ...columns.map((c) => {
        const stats = `${c.type} · ${formatNumber(c.distinct)} distinct · ${formatNumber((c.nullFraction ?? 0) * 100)}% null`;
        let chart: HTMLElement | null = null;
        const hist = c.numeric?.histogram;
        if (hist && hist.counts.length) {
          chart = barChart(
            hist.counts.map((count, i) => ({ label: `${formatNumber(hist.edges[i])} – ${formatNumber(hist.edges[i + 1])}`, count })),
            `${formatNumber(c.numeric?.min)} … ${formatNumber(c.numeric?.max)} (mean ${formatNumber(c.numeric?.mean)})`,
          );
        } else if (c.categorical?.top.length) {
          chart = barChart(c.categorical.top.map((t) => ({ label: t.value, count: t.count })), c.categorical.top.slice(0, 3).map((t) => t.value).join(", "));
        }
        return h("div", { class: "ouro-profile-col", "data-ouro-column": c.name }, h("div", { class: "ouro-profile-name" }, c.name), h("div", { class: "ouro-meta" }, stats), chart);
      }),
    );
  }

  private async train(): Promise<void> {
    const v = this.version;
    if (!v) return;
    const started = await launchTraining(this.connection, { projectId: v.projectId, versionId: v.id, label: this.item.label, columns: v.schema });
    if (started?.runId) this.open({ kind: "run", id: started.runId, label: started.runName, projectId: v.projectId });
  }

  /** A hyperparameter search on this version; opens the search's run, whose chart gains a point per finished trial. */
  private async search(): Promise<void> {
    const v = this.version;
    if (!v) return;
    const started = await launchSearch(this.connection, { projectId: v.projectId, versionId: v.id, label: this.item.label, columns: v.schema });
    if (!started) return;
    if (started.runId) this.open({ kind: "run", id: started.runId, label: started.runName, projectId: v.projectId });
    else this.open({ kind: "job", id: started.jobId, label: "models.search", projectId: v.projectId });
  }

  private async profile(): Promise<void> {
    const v = this.version;
    if (!v) return;
    try {
      const { profileDataset: job } = await this.client.request(ProfileDatasetDocument, { versionId: v.id });
      this.setMessage("Profiling…");
      await this.client.jobs.wait(job.id, { signal: this.signal, onProgress: (j) => this.setMessage(`Profiling… ${Math.round(j.progress * 100)}%`) });
      this.setMessage("");
      await this.showVersion(v.id);
    } catch (err) {
      if (!this.signal.aborted) await showErrorMessage("Profiling failed", describeError(err));
    }
  }
}
