import type { LiveStream } from "@ouro/client-sdk";
import { LineChart, formatNumber } from "../chart";
import { describeError, isNotFound, type OuroConnection } from "../connection";
import { badge, fill, h, table, when } from "../dom";
import { DeploymentPanelDocument, DeploymentStatsNowDocument, ModelOfVersionDocument, ModelVersionChoicesDocument, type DeploymentPanelQuery, type DeploymentStatsNowQuery } from "../generated/graphql";
import { decideCanary, startCanary, type VersionChoice } from "../rollout";
import { OuroPanel, type OuroItem } from "./panel";

type Deployment = DeploymentPanelQuery["deployment"];
type Sample = DeploymentStatsNowQuery["deploymentStatsNow"];

const WINDOW_SECONDS = 60;
const STREAM_EVERY_SECONDS = 2;
const POLL_MS = 3000;
/** While polling, try the subscription again this often. */
const RESUBSCRIBE_MS = 30_000;
/**
 * The deployment itself is re-read this often: the stats stream goes on (with zeros) after the
 * deployment is deleted, so this is how a deleted deployment is noticed; a rollout decided
 * elsewhere (automatically, or from another page) shows up the same way.
 */
const REFRESH_MS = 5000;
const ACTIVE_ROLLOUT = new Set(["running", "awaitingApproval"]);

/**
 * A deployment: routes and their traffic split (with rows per route), the rollout state with
 * canary / promote / roll back, and throughput and latency over the last minute. The numbers
 * come from the `deploymentStats` subscription (a sample every 2 s, pushed by the server).
 * Only if the stream cannot be had does the view poll `deploymentStatsNow`, and it says so.
 * The deployment is re-read every few seconds, so its deletion ends the view with a not-found.
 */
export class DeploymentView extends OuroPanel {
  private readonly throughput = new LineChart("rows/s (last 60 s)", "seconds since opened");
  private readonly latency = new LineChart("latency ms (p50, p99)", "seconds since opened");
  private readonly rate = new Map<number, number>();
  private readonly p50 = new Map<number, number>();
  private readonly p99 = new Map<number, number>();
  private readonly trafficBox = h("div", { class: "ouro-traffic" });
  private readonly started = Date.now();
  private deployment: Deployment | null = null;
  /** model version id → "model vN" (what people call versions). */
  private readonly labels = new Map<string, string>();
  private choices: VersionChoice[] = [];
  private lastSample: Sample | null = null;
  private stream: LiveStream<Sample> | null = null;
  private pollTimer: number | undefined;
  private resubscribeTimer: number | undefined;
  private refreshTimer: number | undefined;
  /** The deployment as last drawn, so an unchanged re-read redraws nothing (no button moves under the pointer). */
  private shown = "";

  constructor(connection: OuroConnection, deploymentId: string, label: string, private readonly open?: (item: OuroItem) => void) {
    super(connection, { kind: "deployment", id: deploymentId, label });
  }

  protected async load(): Promise<void> {
    await this.refresh();
    fill(
      this.body,
      h("h3", {}, "Traffic"),
      this.trafficBox,
      h("h3", {}, "Live"),
      h("div", { class: "ouro-charts" }, this.throughput.node, this.latency.node),
    );
    this.renderTraffic();
    void this.follow();
    this.refreshTimer = window.setInterval(() => {
      if (this.signal.aborted) return window.clearInterval(this.refreshTimer);
      void this.refresh().catch((err) => this.fail(err));
    }, REFRESH_MS);
  }

  /** The deployment and the names of the versions it serves; redraws the header and the traffic table. */
  private async refresh(): Promise<void> {
    const { deployment: d } = await this.client.request(DeploymentPanelDocument, { id: this.item.id }, { signal: this.signal });
    if (this.isDisposed || this.gone) return;
    const key = JSON.stringify(d);
    if (key === this.shown) return;
    this.shown = key;
    this.deployment = d;
    this.item.projectId = d.projectId;
    this.title.label = `Deployment ${d.name}`;
    this.node.dataset.ouroDeploymentStatus = d.status;
    this.node.dataset.ouroRevision = String(d.revision);
    await this.loadVersionLabels(d).catch(() => undefined); // ids are shown instead
    this.renderHeader();
    this.renderTraffic();
  }

  private async loadVersionLabels(d: Deployment): Promise<void> {
    const ids = [...new Set([...d.routes, ...d.shadow].flatMap((r) => r.modelVersionIds))].filter((id) => !this.labels.has(id) || !this.choices.length);
    const modelIds = new Set<string>();
    for (const id of ids) {
      const { modelVersion } = await this.client.request(ModelOfVersionDocument, { id }, { signal: this.signal });
      modelIds.add(modelVersion.modelId);
    }
    const choices: VersionChoice[] = [];
    for (const modelId of modelIds) {
      const { model } = await this.client.request(ModelVersionChoicesDocument, { id: modelId }, { signal: this.signal });
      for (const v of model.versions) {
        const aliases = model.aliases.filter((a) => a.modelVersionId === v.id).map((a) => `@${a.alias}`);
        const label = `${model.name} v${v.version}`;
        this.labels.set(v.id, label);
        choices.push({ id: v.id, label: aliases.length ? `${label} (${aliases.join(" ")})` : label });
      }
    }
    if (choices.length) this.choices = choices;
  }

  private versionLabel = (id: string) => this.labels.get(id) ?? id;

  private renderHeader(): void {
    const d = this.deployment;
    if (!d) return;
    const rollout = d.rollout && ACTIVE_ROLLOUT.has(d.rollout.status) ? d.rollout : null;
    const champion = d.routes.find((r) => r.name !== "challenger" && r.weight > 0);
    const challenger = d.routes.find((r) => r.name === "challenger");
    const names = (r: Deployment["routes"][number] | undefined) => (r ? r.modelVersionIds.map(this.versionLabel).join(" + ") : "the current route");
    const button = (label: string, action: string, onclick: () => void, accept = false, title = "") =>
      h("button", { class: `jp-mod-styled${accept ? " jp-mod-accept" : ""}`, "data-ouro-action": action, title, onclick }, label);
    fill(
      this.header,
      h("div", { class: "ouro-title" }, h("span", { class: "ouro-kind" }, "Deployment"), h("strong", {}, d.name), badge(d.status)),
      h("div", { class: "ouro-meta" }, `revision ${d.revision} · ${d.endpoint} · updated ${when(d.updatedAt)}`),
      h("div", { class: "ouro-actions" }),
    );
    this.header.querySelector(".ouro-actions")!.replaceChildren(
      ...(rollout
        ? [
            button("Promote…", "promote", () => void this.decide(true, names(champion), names(challenger)), true, "Send all traffic to the challenger"),
            button("Roll back…", "rollback", () => void this.decide(false, names(champion), names(challenger)), false, "Send all traffic back to the champion"),
          ]
        : [button("Canary…", "canary", () => void this.canary(names(champion)), true, "Send a share of the traffic to another version")]),
    );
  }

  private renderTraffic(): void {
    const d = this.deployment;
    if (!d) return;
    const split = d.routes.reduce((sum, r) => sum + r.weight, 0) || 1;
    const routeRows = (ids: string[], role: string) => {
      const s = this.lastSample?.routes.filter((r) => r.role === role && ids.includes(r.modelVersionId));
      return s ? formatNumber(s.reduce((n, r) => n + r.rows, 0)) : "–";
    };
    const link = (id: string) =>
      this.open && this.labels.has(id)
        ? h("a", { href: "#", title: id, onclick: (e: Event) => (e.preventDefault(), void this.openVersion(id)) }, this.versionLabel(id))
        : h("span", { title: id }, this.versionLabel(id));
    const versions = (ids: string[]) => {
      const span = h("span", {});
      ids.forEach((id, i) => span.append(...(i ? [", "] : []), link(id)));
      return span;
    };
    const t = table(
      ["route", "share", "model versions", "combine", `rows (${WINDOW_SECONDS} s)`],
      [
        ...d.routes.map((r) => [r.name, `${formatNumber((r.weight / split) * 100)}%`, versions(r.modelVersionIds), r.combine, routeRows(r.modelVersionIds, "primary")]),
        ...d.shadow.map((r) => [`${r.name} (shadow)`, "mirror", versions(r.modelVersionIds), r.combine, routeRows(r.modelVersionIds, "shadow")]),
      ],
      "ouro-table ouro-routes",
    );
    t.querySelectorAll("tbody tr").forEach((tr, i) => tr.setAttribute("data-ouro-route", i < d.routes.length ? d.routes[i].name : d.shadow[i - d.routes.length].name));
    const r = d.rollout;
    fill(
      this.trafficBox,
      t,
      r
        ? h(
            "div",
            { class: "ouro-meta ouro-rollout", "data-ouro-rollout-status": r.status },
            `rollout (${r.mode}): ${r.status}, canary ${formatNumber(r.canaryWeight * 100)}% since ${when(r.startedAt)}`,
            r.verdict ? ` · live ${r.verdict.metric}: champion ${formatNumber(r.verdict.champion)}, challenger ${formatNumber(r.verdict.challenger)}` : "",
            r.reason ? ` — ${r.reason}` : "",
          )
        : null,
    );
  }

  private async openVersion(versionId: string): Promise<void> {
    try {
      const { modelVersion } = await this.client.request(ModelOfVersionDocument, { id: versionId });
      this.open?.({ kind: "model", id: modelVersion.modelId, label: this.versionLabel(versionId).replace(/ v\d+$/, ""), projectId: this.item.projectId });
    } catch (err) {
      this.setMessage(describeError(err, "The model version"), "error");
    }
  }

  private async canary(champion: string): Promise<void> {
    const d = this.deployment;
    if (!d) return;
    const current = new Set(d.routes.flatMap((r) => r.modelVersionIds));
    if (await startCanary(this.connection, d, champion, this.choices.filter((c) => !current.has(c.id)))) await this.refresh().catch((err) => this.fail(err));
  }

  private async decide(promote: boolean, champion: string, challenger: string): Promise<void> {
    const d = this.deployment;
    if (!d) return;
    if (await decideCanary(this.connection, d, promote, champion, challenger)) await this.refresh().catch((err) => this.fail(err));
  }

  // ---- live numbers ----

  /** The subscription; on a failure it cannot recover from, polling takes over (and says so). */
  private async follow(): Promise<void> {
    if (this.signal.aborted) return;
    window.clearTimeout(this.resubscribeTimer);
    const stream = this.client.deployments.stats(this.item.id, {
      everySeconds: STREAM_EVERY_SECONDS,
      windowSeconds: WINDOW_SECONDS,
      signal: this.signal,
      maxReconnects: 3,
      onReconnect: (err) => this.setMessage(`Connection to Ouro lost (${err.message}); reconnecting the live stream…`, "error"),
    }) as LiveStream<Sample>;
    this.stream = stream;
    try {
      for await (const sample of stream) {
        if (this.pollTimer !== undefined) {
          window.clearInterval(this.pollTimer);
          this.pollTimer = undefined;
        }
        this.node.dataset.ouroStatsSource = "subscription";
        this.add(sample, "");
      }
    } catch (err) {
      if (this.signal.aborted || this.isDisposed) return;
      if (isNotFound(err)) return this.fail(err);
      this.fallBackToPolling(describeError(err, "This deployment"));
    } finally {
      if (this.stream === stream) this.stream = null;
    }
  }

  private fallBackToPolling(reason: string): void {
    this.node.dataset.ouroStatsSource = "polling";
    const note = `Polling every ${POLL_MS / 1000} s: the live stream failed (${reason})`;
    void this.poll(note);
    window.clearInterval(this.pollTimer);
    this.pollTimer = window.setInterval(() => void this.poll(note), POLL_MS);
    this.resubscribeTimer = window.setTimeout(() => void this.follow(), RESUBSCRIBE_MS);
  }

  private async poll(note: string): Promise<void> {
    if (this.signal.aborted) {
      // The deployment is gone (or the panel closed): stop asking.
      window.clearInterval(this.pollTimer);
      window.clearTimeout(this.resubscribeTimer);
      return;
    }
    try {
      const { deploymentStatsNow: s } = await this.client.request(DeploymentStatsNowDocument, { id: this.item.id }, { signal: this.signal, retry: false });
      this.add(s, note);
    } catch (err) {
      this.fail(err);
    }
  }

  private add(s: Sample, note: string): void {
    if (this.isDisposed) return;
    // Seconds since the panel opened, by this browser's clock (the server's may differ).
    const t = Math.round((Date.now() - this.started) / 1000);
    this.rate.set(t, s.rowsPerSecond);
    if (s.p50Ms !== null && s.p50Ms !== undefined) this.p50.set(t, s.p50Ms);
    if (s.p99Ms !== null && s.p99Ms !== undefined) this.p99.set(t, s.p99Ms);
    this.throughput.set([{ label: "rows/s", points: this.rate }]);
    this.latency.set([
      { label: "p50", points: this.p50 },
      { label: "p99", points: this.p99 },
    ]);
    this.lastSample = s;
    this.renderTraffic();
    const counted = `${s.rows} predictions in the last ${WINDOW_SECONDS} s`;
    if (note) this.setMessage(`${note} · ${counted}`, "error");
    else this.setMessage(`Live · ${counted}`, "live");
  }

  override dispose(): void {
    window.clearInterval(this.refreshTimer);
    window.clearInterval(this.pollTimer);
    window.clearTimeout(this.resubscribeTimer);
    this.stream?.close();
    this.throughput.dispose();
    this.latency.dispose();
    super.dispose();
  }
}
