import { LineChart } from "../chart";
import type { OuroConnection } from "../connection";
import { h, table, fill } from "../dom";
import { RunSeriesDocument, type RunSeriesQuery } from "../generated/graphql";
import { OuroPanel } from "./panel";

type Run = RunSeriesQuery["run"];

/** Several runs side by side: one chart per metric with a line per run, and their params. */
export class CompareView extends OuroPanel {
  private readonly charts: LineChart[] = [];

  constructor(connection: OuroConnection, private readonly runIds: string[]) {
    super(connection, { kind: "run", id: `compare-${runIds.join("-")}`, label: `Compare ${runIds.length} runs` });
    this.node.dataset.ouroKind = "compare";
  }

  protected async load(): Promise<void> {
    const runs: Run[] = [];
    const missing: string[] = [];
    for (const id of this.runIds) {
      try {
        runs.push((await this.client.request(RunSeriesDocument, { id, buckets: 300 }, { signal: this.signal })).run);
      } catch (err) {
        if ((err as { code?: string }).code === "NOT_FOUND") missing.push(id);
        else throw err;
      }
    }
    fill(this.header, h("div", { class: "ouro-title" }, h("span", { class: "ouro-kind" }, "Compare"), h("strong", {}, runs.map((r) => r.name).join(" · "))));
    if (missing.length) this.setMessage(`${missing.length} run(s) no longer exist and are left out: ${missing.join(", ")}`, "error");
    const keys = [...new Set(runs.flatMap((r) => r.metrics.map((m) => m.key)))].sort();
    const chartBox = h("div", { class: "ouro-charts" });
    for (const key of keys) {
      const chart = new LineChart(key);
      this.charts.push(chart);
      chartBox.append(chart.node);
      chart.set(runs.map((r) => ({ label: r.name, points: new Map((r.metrics.find((m) => m.key === key)?.points ?? []).map((p) => [p.step, p.value])) })));
    }
    const paramKeys = [...new Set(runs.flatMap((r) => r.params.map((p) => p.key)))].sort();
    const rows = paramKeys.map((k) => {
      const values = runs.map((r) => r.params.find((p) => p.key === k)?.value ?? "–");
      const differs = new Set(values).size > 1;
      return [differs ? h("strong", { title: "differs between runs" }, k) : k, ...values];
    });
    fill(this.body, 
      h("h3", {}, "Metrics"),
      keys.length ? chartBox : h("div", { class: "ouro-empty" }, "None of these runs has metrics."),
      h("h3", {}, "Params (bold: they differ)"),
      paramKeys.length ? table(["param", ...runs.map((r) => r.name)], rows) : h("div", { class: "ouro-empty" }, "No params."),
    );
  }

  override dispose(): void {
    for (const c of this.charts) c.dispose();
    super.dispose();
  }
}
