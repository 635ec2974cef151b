import type { OuroConnection } from "../connection";
import { LineChart } from "../chart";
import { badge, h, table, when, fill } from "../dom";
import { RunPanelDocument, type RunPanelQuery } from "../generated/graphql";
import { OuroPanel } from "./panel";

type Run = RunPanelQuery["run"];

/**
 * A run: status, params and one live chart per metric. The runMetrics subscription replays
 * every stored point and then streams new ones; when the connection drops the SDK resumes from
 * the last cursor, so the chart neither loses nor repeats points.
 */
export class RunView extends OuroPanel {
  private readonly charts = new Map<string, { chart: LineChart; points: Map<number, number> }>();
  private readonly chartBox = h("div", { class: "ouro-charts", "data-ouro-charts": "" });
  private run: Run | null = null;
  private refreshTimer: number | undefined;
  private lastRefresh = 0;

  constructor(connection: OuroConnection, runId: string, label: string) {
    super(connection, { kind: "run", id: runId, label });
    this.title.iconClass = "ouro-icon-run";
  }

  protected async load(): Promise<void> {
    await this.refresh();
    fill(this.body, 
      h("h3", {}, "Metrics"),
      this.chartBox,
      h("div", { class: "ouro-empty ouro-no-metrics" }, "No metrics yet: points appear here as the run logs them."),
      h("h3", {}, "Params"),
      h("div", { class: "ouro-params" }),
    );
    this.renderParams();
    void this.follow();
    // Status and params change without metric points (finish, failure): poll while running.
    this.refreshTimer = window.setInterval(() => {
      if (this.run?.status === "running") void this.refresh().catch((err) => this.fail(err));
    }, 5000);
  }

  private async refresh(): Promise<void> {
    this.lastRefresh = Date.now();
    const { run } = await this.client.request(RunPanelDocument, { id: this.item.id }, { signal: this.signal });
    if (this.isDisposed) return;
    this.run = run;
    this.title.label = `Run ${run.name}`;
    this.node.dataset.ouroRunStatus = run.status;
    fill(this.header, 
      h("div", { class: "ouro-title" }, h("span", { class: "ouro-kind" }, "Run"), h("strong", {}, run.name), badge(run.status)),
      h(
        "div",
        { class: "ouro-meta" },
        `experiment ${run.experiment.name} · started ${when(run.startedAt)}`,
        run.finishedAt ? ` · finished ${when(run.finishedAt)}` : "",
        run.statusReason ? ` · ${run.statusReason}` : "",
      ),
    );
    this.renderParams();
  }

  private renderParams(): void {
    const box = this.body.querySelector(".ouro-params");
    if (!box || !this.run) return;
    const params = this.run.params;
    box.replaceChildren(params.length ? table(["param", "value"], params.map((p) => [p.key, p.value])) : h("div", { class: "ouro-empty" }, "No params logged."));
  }

  private async follow(): Promise<void> {
    const stream = this.client.runs.metricBatches(this.item.id, {
      signal: this.signal,
      onReconnect: (err) => this.setMessage(`Connection to Ouro lost (${err.message}); reconnecting — the chart resumes where it stopped.`, "error"),
    });
    try {
      for await (const batch of stream) {
        this.setMessage("Live", "live");
        for (const p of batch.points) this.add(p.key, p.step, p.value);
        this.draw();
        if (this.run?.status === "running" && Date.now() - this.lastRefresh > 3000) void this.refresh().catch((err) => this.fail(err));
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private add(key: string, step: number, value: number): void {
    let entry = this.charts.get(key);
    if (!entry) {
      entry = { chart: new LineChart(key), points: new Map() };
      this.charts.set(key, entry);
      const keys = [...this.charts.keys()].sort();
      this.chartBox.replaceChildren(...keys.map((k) => this.charts.get(k)!.chart.node));
      this.body.querySelector(".ouro-no-metrics")?.remove();
    }
    entry.points.set(step, value);
  }

  private draw(): void {
    for (const [key, { chart, points }] of this.charts) chart.set([{ label: key, points }]);
  }

  override dispose(): void {
    window.clearInterval(this.refreshTimer);
    for (const { chart } of this.charts.values()) chart.dispose();
    super.dispose();
  }
}
