import { Dialog, showDialog, showErrorMessage } from "@jupyterlab/apputils";
import type { MonitorResult } from "@ouro/client-sdk";
import { acknowledgeAlert } from "../actions";
import { LineChart, formatNumber, type Series } from "../chart";
import { describeError, isNotFound, type OuroConnection } from "../connection";
import { badge, fill, h, table, when } from "../dom";
import { MonitorAlertsDocument, MonitorDeploymentDocument, MonitorPanelDocument, RunMonitorNowDocument, type MonitorAlertsQuery, type MonitorPanelQuery } from "../generated/graphql";
import { OuroPanel, type OuroItem } from "./panel";

type Monitor = MonitorPanelQuery["monitor"];
type Alert = MonitorAlertsQuery["alerts"]["nodes"][number];

/** Status, config and alerts are re-read this often (a deleted monitor is noticed this way too). */
const REFRESH_MS = 5000;

/** A number from a JSON blob, or null. */
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** The rule's condition in words: "status ≥ 2 for 1 window(s)". */
export const ruleText = (r: { metric: string; direction: string; threshold: number; forWindows: number }) =>
  `${r.metric} ${r.direction === "below" ? "≤" : "≥"} ${formatNumber(r.threshold)} for ${r.forWindows} window(s)`;

/**
 * A monitor: what it watches and how, then one chart per kind over its windows (drift score
 * per feature with the status thresholds, prediction drift, live performance), the last
 * window's data quality, and its alerts with Ack. The monitorUpdates subscription replays
 * every stored window and then streams new ones; after a dropped connection it resumes from
 * its cursor, so a window is drawn once and none is missed.
 */
export class MonitorView extends OuroPanel {
  private monitor: Monitor | null = null;
  private readonly results: MonitorResult[] = [];
  private readonly driftChart = new LineChart("drift score per feature", "window");
  private readonly predictionChart = new LineChart("prediction drift score", "window");
  private readonly performanceChart = new LineChart("live performance", "window");
  private readonly latestBox = h("div", { class: "ouro-monitor-latest" });
  private readonly chartBox = h("div", { class: "ouro-charts", "data-ouro-charts": "" });
  private readonly qualityBox = h("div", { class: "ouro-monitor-quality" });
  private readonly alertBox = h("div", { class: "ouro-monitor-alerts" });
  private readonly rulesBox = h("div", { class: "ouro-monitor-rules" });
  private alerts: Alert[] = [];
  private timer: number | undefined;
  private alertReload: number | undefined;
  private deploymentText = "";
  private readonly shown = { header: "", alerts: "" };

  constructor(connection: OuroConnection, monitorId: string, label: string, private readonly open: (item: OuroItem) => void) {
    super(connection, { kind: "monitor", id: monitorId, label });
    this.node.dataset.ouroWindows = "0";
  }

  protected async load(): Promise<void> {
    await this.refresh();
    fill(
      this.body,
      h("h3", {}, "Latest window"),
      this.latestBox,
      h("h3", {}, "Over time"),
      this.chartBox,
      h("h3", {}, "Data quality (last window)"),
      this.qualityBox,
      h("h3", {}, "Alerts"),
      this.alertBox,
      h("h3", {}, "Alert rules"),
      this.rulesBox,
    );
    this.renderResults();
    this.renderAlerts();
    this.renderRules();
    void this.follow();
    void this.followAlerts();
    this.timer = window.setInterval(() => void this.refresh().catch((err) => this.fail(err)), REFRESH_MS);
  }

  /** The monitor (status, config, rules), its deployment and its alerts. */
  private async refresh(): Promise<void> {
    const { monitor } = await this.client.request(MonitorPanelDocument, { id: this.item.id }, { signal: this.signal });
    if (this.isDisposed || this.gone) return;
    this.monitor = monitor;
    this.item.projectId = monitor.projectId;
    this.title.label = `Monitor ${monitor.name}`;
    this.node.dataset.ouroMonitorStatus = monitor.status;
    if (monitor.deploymentId && !this.deploymentText) {
      try {
        const { deployment } = await this.client.request(MonitorDeploymentDocument, { id: monitor.deploymentId }, { signal: this.signal });
        this.deploymentText = `deployment ${deployment.name} (${deployment.status}, rev ${deployment.revision}) · ${deployment.endpoint}`;
      } catch (err) {
        if (!isNotFound(err)) throw err;
        this.deploymentText = `deployment ${monitor.deploymentId} (deleted)`;
      }
    }
    // Re-render only what changed, so a button is not swapped out from under the pointer every 5 s.
    const key = JSON.stringify([monitor, this.deploymentText]);
    if (key !== this.shown.header) {
      this.shown.header = key;
      this.renderHeader(monitor);
      this.renderRules();
    }
    await this.loadAlerts();
  }

  private renderHeader(m: Monitor): void {
    const c = m.config as { features?: string[]; window?: { kind: string; minutes?: number; predictions?: number }; thresholds?: { potential: number; detected: number }; target?: string | null; task?: string | null };
    const window = c.window?.kind === "time" ? `every ${c.window.minutes} min` : c.window ? `every ${formatNumber(c.window.predictions)} predictions` : "?";
    fill(
      this.header,
      h(
        "div",
        { class: "ouro-title" },
        h("span", { class: "ouro-kind" }, "Monitor"),
        h("strong", {}, m.name),
        badge(m.status),
        h("span", { class: "ouro-actions" }, h("button", { class: "jp-mod-styled jp-mod-accept ouro-small", "data-ouro-action": "run-monitor", onclick: () => void this.runNow() }, "Run now…")),
      ),
      h("div", { class: "ouro-meta" }, this.deploymentText || "no deployment"),
      h(
        "div",
        { class: "ouro-meta" },
        `${m.kinds.join(", ")} · a window ${window}`,
        c.thresholds ? ` · drift: potential ≥ ${formatNumber(c.thresholds.potential)}, detected ≥ ${formatNumber(c.thresholds.detected)}` : "",
        c.target ? ` · target ${c.target}` : "",
        c.task ? ` (${c.task})` : "",
      ),
      c.features?.length ? h("div", { class: "ouro-meta" }, `features: ${c.features.join(", ")}`) : null,
    );
  }

  private async follow(): Promise<void> {
    const stream = this.client.monitors.updates(this.item.id, {
      signal: this.signal,
      onReconnect: (err) => this.setMessage(`Connection to Ouro lost (${err.message}); reconnecting — the charts resume where they stopped.`, "error"),
    });
    try {
      for await (const result of stream) {
        // A re-evaluated window replaces the one with its key (runMonitorNow on the same window).
        const at = this.results.findIndex((r) => r.windowKey === result.windowKey);
        if (at >= 0) this.results[at] = result;
        else this.results.push(result);
        this.setMessage(`Live · ${this.results.length} window(s)`, "live");
        this.renderResults();
      }
    } catch (err) {
      this.fail(err);
    }
  }

  /** Alert state changes of the project: reload this monitor's alerts when one of them (or a new one) changes. */
  private async followAlerts(): Promise<void> {
    const projectId = this.item.projectId;
    if (!projectId) return;
    const opened = Date.now() - 2000;
    const stream = this.client.alerts.events(projectId, { signal: this.signal });
    try {
      for await (const event of stream) {
        if (Date.parse(event.at) < opened) continue; // history: loadAlerts already has it
        window.clearTimeout(this.alertReload);
        this.alertReload = window.setTimeout(() => void this.loadAlerts().catch((err) => this.fail(err)), 300);
      }
    } catch {
      /* the 5 s refresh keeps the alerts current without the stream */
    }
  }

  private async loadAlerts(): Promise<void> {
    const projectId = this.item.projectId;
    if (!projectId) return;
    const { alerts } = await this.client.request(MonitorAlertsDocument, { projectId }, { signal: this.signal });
    if (this.isDisposed || this.gone) return;
    this.alerts = alerts.nodes.filter((a) => a.monitorId === this.item.id);
    const key = JSON.stringify([this.alerts, this.monitor?.alertRules]);
    if (key === this.shown.alerts) return;
    this.shown.alerts = key;
    this.renderAlerts();
  }

  private renderResults(): void {
    const rs = this.results;
    this.node.dataset.ouroWindows = String(rs.length);
    const last = rs[rs.length - 1];
    if (!last) {
      fill(this.latestBox, h("div", { class: "ouro-empty" }, "No windows yet: the first appears when enough predictions have been logged (or press Run now)."));
      fill(this.chartBox);
      fill(this.qualityBox, h("div", { class: "ouro-empty" }, "No window yet."));
      return;
    }
    const t = (this.monitor?.config as { thresholds?: { potential: number; detected: number } } | undefined)?.thresholds ?? { potential: 0.5, detected: 0.7 };
    fill(
      this.latestBox,
      h(
        "div",
        { class: "ouro-meta" },
        badge(last.status),
        ` window ${rs.length} · ${last.windowKey} · ${formatNumber(last.predictions)} predictions · worst drift ${formatNumber(last.driftScore)} · evaluated ${when(last.evaluatedAt)}`,
      ),
      table(
        ["feature", "kind", "status", "score", "values", "metrics"],
        [...last.features, ...(last.prediction ? [{ ...last.prediction, name: `${last.prediction.name} (prediction)` }] : [])].map((f) => [
          f.name,
          f.kind,
          badge(f.status),
          formatNumber(f.score),
          formatNumber(f.count),
          Object.entries(f.metrics).map(([k, v]) => `${k} ${formatNumber(v)}`).join(" · "),
        ]),
        "ouro-table ouro-drift-table",
      ),
    );

    // Window n on the x axis; each threshold as a flat line, so "above the line" reads as that status.
    const flat = (label: string, v: number): Series => ({ label, points: new Map(rs.map((_, i) => [i + 1, v])), guide: true });
    const thresholds = [flat(`potential ≥ ${formatNumber(t.potential)}`, t.potential), flat(`detected ≥ ${formatNumber(t.detected)}`, t.detected)];
    const names = [...new Set(rs.flatMap((r) => r.features.map((f) => f.name)))];
    const series = (pick: (r: MonitorResult) => number | null | undefined, label: string): Series => {
      const points = new Map<number, number>();
      rs.forEach((r, i) => {
        const v = pick(r);
        if (typeof v === "number" && Number.isFinite(v)) points.set(i + 1, v);
      });
      return { label, points };
    };
    const charts: HTMLElement[] = [];
    if (names.length) {
      this.driftChart.set([...names.map((n) => series((r) => r.features.find((f) => f.name === n)?.score, n)), ...thresholds]);
      this.driftChart.node.dataset.ouroFeatures = names.join(",");
      charts.push(this.driftChart.node);
    }
    if (rs.some((r) => r.prediction)) {
      this.predictionChart.set([series((r) => r.prediction?.score, "prediction"), ...thresholds]);
      charts.push(this.predictionChart.node);
    }
    const perfKeys = ["accuracy", "f1", "rmse", "mae"].filter((k) => rs.some((r) => num(r.performance?.[k]) !== null));
    if (perfKeys.length) {
      this.performanceChart.set(perfKeys.map((k) => series((r) => num(r.performance?.[k]), k)));
      charts.push(this.performanceChart.node);
    }
    if (charts.length !== this.chartBox.children.length || charts.some((c, i) => this.chartBox.children[i] !== c)) this.chartBox.replaceChildren(...charts);
    this.renderQuality(last);
  }

  private renderQuality(last: MonitorResult): void {
    const q = last.quality as { status?: string; rows?: number; schemaViolations?: number; schemaViolationRate?: number; maxNullRate?: number; maxNullRateIncrease?: number; maxOutOfRange?: number; maxUnseen?: number; reasons?: string[]; features?: { name: string; nullRate: number; referenceNullRate: number; outOfRange: number | null; unseen: number | null; typeErrors: number; missing: number }[] } | null;
    const perf = last.performance as { task?: string; labelled?: number } | null;
    if (!q) {
      fill(this.qualityBox, h("div", { class: "ouro-empty" }, "This monitor does not check data quality (kind data_quality)."), perf ? h("div", { class: "ouro-meta" }, `performance: ${perf.labelled ?? 0} labelled predictions`) : null);
      return;
    }
    fill(
      this.qualityBox,
      h(
        "div",
        { class: "ouro-meta" },
        badge(q.status ?? "no_data"),
        ` ${formatNumber(q.rows)} rows · schema violations ${formatNumber(q.schemaViolations)} (${formatNumber(q.schemaViolationRate)}) · max null rate ${formatNumber(q.maxNullRate)} (+${formatNumber(q.maxNullRateIncrease)} vs reference) · max out of range ${formatNumber(q.maxOutOfRange)} · max unseen ${formatNumber(q.maxUnseen)}`,
        perf ? ` · ${formatNumber(perf.labelled)} labelled` : "",
      ),
      q.reasons?.length ? h("ul", { class: "ouro-reasons" }, ...q.reasons.map((r) => h("li", {}, r))) : null,
      q.features?.length
        ? table(
            ["feature", "null rate", "reference null rate", "out of range", "unseen", "type errors", "missing"],
            q.features.map((f) => [f.name, formatNumber(f.nullRate), formatNumber(f.referenceNullRate), formatNumber(f.outOfRange), formatNumber(f.unseen), formatNumber(f.typeErrors), formatNumber(f.missing)]),
          )
        : null,
    );
  }

  private renderAlerts(): void {
    const rules = new Map((this.monitor?.alertRules ?? []).map((r) => [r.id, r]));
    if (!this.alerts.length) {
      fill(this.alertBox, h("div", { class: "ouro-empty" }, "No alerts."));
      return;
    }
    fill(
      this.alertBox,
      table(
        ["state", "severity", "message", "rule", "since", ""],
        this.alerts.map((a) => {
          const rule = a.ruleId ? rules.get(a.ruleId) : undefined;
          const row: (Node | string)[] = [
            badge(a.state),
            a.severity,
            a.message,
            rule ? `${rule.name}: ${ruleText(rule)}` : "–",
            when(a.createdAt),
            h(
              "span",
              { class: "ouro-actions", "data-ouro-alert": a.id },
              a.state === "firing" ? h("button", { class: "jp-mod-styled ouro-small", "data-ouro-action": "ack-alert", onclick: () => void this.ack(a) }, "Ack…") : null,
              h("button", { class: "jp-mod-styled ouro-small", "data-ouro-action": "open-alert", onclick: () => this.open({ kind: "alert", id: a.id, label: a.message, projectId: this.item.projectId }) }, "Details"),
            ),
          ];
          return row;
        }),
        "ouro-table ouro-alerts",
      ),
    );
  }

  private renderRules(): void {
    const rules = this.monitor?.alertRules ?? [];
    fill(
      this.rulesBox,
      rules.length
        ? table(["rule", "condition", "severity", "enabled"], rules.map((r) => [r.name, ruleText(r), r.severity, r.enabled ? "yes" : "no"]))
        : h("div", { class: "ouro-empty" }, "No alert rules: add one with client.alerts.createRule(...)."),
    );
  }

  private async ack(alert: Alert): Promise<void> {
    if (await acknowledgeAlert(this.connection, alert)) await this.loadAlerts().catch((err) => this.fail(err));
  }

  private async runNow(): Promise<void> {
    const m = this.monitor;
    if (!m) return;
    const confirm = await showDialog({
      title: "Run monitor now?",
      body: `Evaluate ${m.name} on its latest window now? The result appears here as a new window when the job is done.`,
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: "Run now" })],
    });
    if (!confirm.button.accept) return;
    try {
      const { runMonitorNow } = await this.client.request(RunMonitorNowDocument, { id: m.id });
      this.setMessage(`Evaluation job ${runMonitorNow.id} ${runMonitorNow.status}; its window appears below when it is done.`, "live");
    } catch (err) {
      await showErrorMessage("Monitor not run", describeError(err, "The monitor"));
    }
  }

  /** A deleted object keeps its header for context, without actions that can no longer work. */
  protected override fail(err: unknown): void {
    super.fail(err);
    if (!this.gone) return;
    this.header.querySelector(".ouro-actions")?.remove();
    window.clearInterval(this.timer);
  }

  override dispose(): void {
    window.clearInterval(this.timer);
    window.clearTimeout(this.alertReload);
    this.driftChart.dispose();
    this.predictionChart.dispose();
    this.performanceChart.dispose();
    super.dispose();
  }
}
