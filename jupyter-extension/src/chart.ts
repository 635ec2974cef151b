/**
 * Charts: uPlot for metric curves (small, fast to append to, redraws only on demand) and
 * plain DOM bars for histograms and top values.
 */
import uPlot from "uplot";

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"];

export interface Series {
  label: string;
  /** step → value */
  points: Map<number, number>;
  /** A reference line (a threshold): dashed and grey, not a data colour. */
  guide?: boolean;
}

/**
 * A line chart of one metric (one series per run when comparing). `set` replaces the data;
 * redraws are batched to one per animation frame, so a burst of live points costs one draw.
 */
export class LineChart {
  readonly node = document.createElement("div");
  private plot: uPlot | null = null;
  private series: Series[] = [];
  private pending = false;
  private labels = "";

  constructor(readonly title: string, private readonly xLabel = "step") {
    this.node.className = "ouro-chart";
    const heading = document.createElement("div");
    heading.className = "ouro-chart-title";
    heading.textContent = title;
    this.node.append(heading);
    this.node.dataset.ouroMetric = title;
    this.node.dataset.ouroPoints = "0";
  }

  set(series: Series[]): void {
    this.series = series;
    const total = series.reduce((n, s) => n + s.points.size, 0);
    this.node.dataset.ouroPoints = String(total);
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.draw();
    });
  }

  private draw(): void {
    if (!this.node.isConnected) return;
    const steps = [...new Set(this.series.flatMap((s) => [...s.points.keys()]))].sort((a, b) => a - b);
    const data: uPlot.AlignedData = [steps, ...this.series.map((s) => steps.map((step) => s.points.get(step) ?? null))];
    const labels = this.series.map((s) => s.label).join("\u0000");
    const width = Math.max(240, (this.node.clientWidth || 420) - 16);
    if (this.plot && labels === this.labels) {
      this.plot.setData(data);
      return;
    }
    this.plot?.destroy();
    this.labels = labels;
    this.plot = new uPlot(
      {
        width,
        height: 200,
        scales: { x: { time: false } },
        axes: [{ label: this.xLabel }, {}],
        legend: { show: this.series.length > 1 },
        series: [{ label: this.xLabel }, ...this.series.map((s, i) => (s.guide ? { label: s.label, stroke: "#888", width: 1, dash: [6, 4], points: { show: false }, spanGaps: true } : { label: s.label, stroke: PALETTE[i % PALETTE.length], width: 1.5, spanGaps: true }))],
      },
      data,
      this.node,
    );
  }

  dispose(): void {
    this.plot?.destroy();
    this.plot = null;
  }
}

/** Vertical bars with a label per bar; `title` on hover gives the exact count. */
export function barChart(values: { label: string; count: number }[], caption: string): HTMLElement {
  const box = document.createElement("div");
  box.className = "ouro-bars";
  const max = Math.max(1, ...values.map((v) => v.count));
  const bars = document.createElement("div");
  bars.className = "ouro-bars-area";
  for (const v of values) {
    const bar = document.createElement("div");
    bar.className = "ouro-bar";
    bar.style.height = `${Math.max(1, (v.count / max) * 100)}%`;
    bar.title = `${v.label}: ${v.count}`;
    bars.append(bar);
  }
  const text = document.createElement("div");
  text.className = "ouro-bars-caption";
  text.textContent = caption;
  box.append(bars, text);
  return box;
}

export function formatNumber(v: unknown): string {
  if (typeof v !== "number") return v === null || v === undefined ? "–" : String(v);
  if (Number.isInteger(v)) return v.toLocaleString("en-US");
  return Math.abs(v) >= 1000 || Math.abs(v) < 0.001 ? v.toPrecision(4) : v.toFixed(4).replace(/0+$/, "").replace(/\.$/, "");
}
