import { LineChart, formatNumber } from "../chart";
import type { OuroConnection } from "../connection";
import { badge, fill, h, table, when } from "../dom";
import { DeploymentPanelDocument, DeploymentStatsNowDocument } from "../generated/graphql";
import { OuroPanel } from "./panel";

const SAMPLE_MS = 3000;

/**
 * A deployment: routes and their traffic split, rollout state, and throughput and latency over
 * the last minute, sampled every few seconds while the panel is open.
 */
export class DeploymentView extends OuroPanel {
  private readonly throughput = new LineChart("rows/s (last 60 s)", "seconds since opened");
  private readonly latency = new LineChart("latency ms (p50, p99)", "seconds since opened");
  private readonly rate = new Map<number, number>();
  private readonly p50 = new Map<number, number>();
  private readonly p99 = new Map<number, number>();
  private timer: number | undefined;
  private readonly started = Date.now();

  constructor(connection: OuroConnection, deploymentId: string, label: string) {
    super(connection, { kind: "deployment", id: deploymentId, label });
  }

  protected async load(): Promise<void> {
    const { deployment: d } = await this.client.request(DeploymentPanelDocument, { id: this.item.id }, { signal: this.signal });
    this.item.projectId = d.projectId;
    this.title.label = `Deployment ${d.name}`;
    this.node.dataset.ouroDeploymentStatus = d.status;
    fill(
      this.header,
      h("div", { class: "ouro-title" }, h("span", { class: "ouro-kind" }, "Deployment"), h("strong", {}, d.name), badge(d.status)),
      h("div", { class: "ouro-meta" }, `revision ${d.revision} · ${d.endpoint} · updated ${when(d.updatedAt)}`),
    );
    const split = d.routes.reduce((sum, r) => sum + r.weight, 0) || 1;
    fill(
      this.body,
      h("h3", {}, "Traffic"),
      table(["route", "share", "model versions", "combine"], d.routes.map((r) => [r.name, `${formatNumber((r.weight / split) * 100)}%`, r.modelVersionIds.join(", "), r.combine])),
      d.shadow.length ? h("div", { class: "ouro-meta" }, `shadow: ${d.shadow.map((s) => s.name).join(", ")}`) : null,
      d.rollout ? h("div", { class: "ouro-meta" }, `rollout ${d.rollout.mode}: ${d.rollout.status}${d.rollout.reason ? ` (${d.rollout.reason})` : ""}, canary ${formatNumber(d.rollout.canaryWeight * 100)}%`) : null,
      h("h3", {}, "Live"),
      h("div", { class: "ouro-charts" }, this.throughput.node, this.latency.node),
    );
    await this.sample();
    this.timer = window.setInterval(() => void this.sample(), SAMPLE_MS);
  }

  private async sample(): Promise<void> {
    try {
      const { deploymentStatsNow: s } = await this.client.request(DeploymentStatsNowDocument, { id: this.item.id }, { signal: this.signal, retry: false });
      const t = Math.round((Date.now() - this.started) / 1000);
      this.rate.set(t, s.rowsPerSecond);
      if (s.p50Ms !== null && s.p50Ms !== undefined) this.p50.set(t, s.p50Ms);
      if (s.p99Ms !== null && s.p99Ms !== undefined) this.p99.set(t, s.p99Ms);
      this.throughput.set([{ label: "rows/s", points: this.rate }]);
      this.latency.set([
        { label: "p50", points: this.p50 },
        { label: "p99", points: this.p99 },
      ]);
      this.setMessage(`Live · ${s.rows} predictions in the last ${60} s`, "live");
    } catch (err) {
      this.fail(err);
    }
  }

  override dispose(): void {
    window.clearInterval(this.timer);
    this.throughput.dispose();
    this.latency.dispose();
    super.dispose();
  }
}
