import type { AlertEvent } from "@ouro/client-sdk";
import { acknowledgeAlert } from "../actions";
import { formatNumber } from "../chart";
import { isNotFound, type OuroConnection } from "../connection";
import { badge, fill, h, table, when } from "../dom";
import { AlertMonitorDocument, AlertPanelDocument, type AlertMonitorQuery, type AlertPanelQuery } from "../generated/graphql";
import { ruleText } from "./monitor";
import { OuroPanel, type OuroItem } from "./panel";

type Alert = AlertPanelQuery["alert"];
type Monitor = AlertMonitorQuery["monitor"];

const STATES = ["firing", "acknowledged", "resolved"] as const;

/**
 * One alert: where it is on firing → acknowledged → resolved, the rule that raised it, the
 * figures it fired on, and its history. The history comes with the alert; the project's
 * alertEvents stream, followed from the last of it, shows a state change without a reload
 * (and without replaying every alert the project ever had).
 */
export class AlertView extends OuroPanel {
  private alert: Alert | null = null;
  private monitor: Monitor | null = null;
  private readonly events: AlertEvent[] = [];
  private readonly stateBox = h("div", { class: "ouro-alert-states" });
  private readonly historyBox = h("div", { class: "ouro-alert-history" });
  private readonly detailsBox = h("div", { class: "ouro-alert-details" });
  private reloadTimer: number | undefined;

  constructor(connection: OuroConnection, alertId: string, label: string, private readonly open: (item: OuroItem) => void) {
    super(connection, { kind: "alert", id: alertId, label });
  }

  protected async load(): Promise<void> {
    await this.refresh();
    fill(this.body, h("h3", {}, "State"), this.stateBox, h("h3", {}, "What fired"), this.detailsBox, h("h3", {}, "History"), this.historyBox);
    this.render();
    void this.follow();
  }

  private async refresh(): Promise<void> {
    const { alert } = await this.client.request(AlertPanelDocument, { id: this.item.id }, { signal: this.signal });
    if (this.isDisposed || this.gone) return;
    this.alert = alert;
    // The history as the server has it, plus live events newer than it (the reload may have
    // read the history just before one committed).
    const last = alert.history.at(-1)?.cursor;
    const newer = this.events.filter((e) => last === undefined || BigInt(e.cursor) > BigInt(last));
    this.events.splice(0, this.events.length, ...alert.history, ...newer);
    this.item.projectId = alert.projectId;
    this.title.label = `Alert ${alert.severity}`;
    this.node.dataset.ouroAlertState = alert.state;
    if (alert.monitorId && !this.monitor) {
      try {
        this.monitor = (await this.client.request(AlertMonitorDocument, { id: alert.monitorId }, { signal: this.signal })).monitor;
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    const rule = this.monitor?.alertRules.find((r) => r.id === alert.ruleId);
    fill(
      this.header,
      h(
        "div",
        { class: "ouro-title" },
        h("span", { class: "ouro-kind" }, "Alert"),
        h("strong", {}, alert.message),
        badge(alert.state),
        h(
          "span",
          { class: "ouro-actions" },
          alert.state === "firing" ? h("button", { class: "jp-mod-styled jp-mod-accept ouro-small", "data-ouro-action": "ack-alert", onclick: () => void this.ack() }, "Acknowledge…") : null,
        ),
      ),
      h(
        "div",
        { class: "ouro-meta" },
        `severity ${alert.severity} · raised ${when(alert.createdAt)}`,
        this.monitor
          ? h("span", {}, " · monitor ", h("a", { href: "#", "data-ouro-action": "open-monitor", onclick: (e: Event) => (e.preventDefault(), this.open({ kind: "monitor", id: this.monitor!.id, label: this.monitor!.name, projectId: alert.projectId })) }, this.monitor.name))
          : alert.monitorId ? ` · monitor ${alert.monitorId} (deleted)` : "",
      ),
      h("div", { class: "ouro-meta" }, rule ? `rule ${rule.name}: ${ruleText(rule)} (${rule.enabled ? "enabled" : "disabled"})` : alert.ruleId ? `rule ${alert.ruleId}` : "no rule"),
    );
    this.render();
  }

  private render(): void {
    const a = this.alert;
    if (!a) return;
    // The three states in order; the reached ones are marked with when they were reached.
    const reached: Record<(typeof STATES)[number], string | null | undefined> = { firing: a.createdAt, acknowledged: a.acknowledgedAt, resolved: a.resolvedAt };
    fill(
      this.stateBox,
      h(
        "ol",
        { class: "ouro-steps" },
        ...STATES.map((s) =>
          h("li", { class: `ouro-step${reached[s] ? " ouro-step-done" : ""}${a.state === s ? " ouro-step-current" : ""}`, "data-ouro-state": s }, h("strong", {}, s), h("div", { class: "ouro-meta" }, reached[s] ? when(reached[s]) : "–")),
        ),
      ),
    );
    const details = Object.entries(a.details);
    fill(this.detailsBox, details.length ? table(null, details.map(([k, v]) => [k, typeof v === "object" && v !== null ? JSON.stringify(v) : formatNumber(v)])) : h("div", { class: "ouro-empty" }, "No details."));
    fill(
      this.historyBox,
      this.events.length
        ? table(["when", "state", "by", "data"], this.events.map((e) => [when(e.at), badge(e.state), e.actorId ? `user ${e.actorId}` : "Ouro", Object.keys(e.data).length ? JSON.stringify(e.data) : ""]), "ouro-table ouro-history")
        : h("div", { class: "ouro-empty" }, "No state changes recorded yet."),
    );
  }

  private async follow(): Promise<void> {
    const projectId = this.item.projectId;
    if (!projectId) return;
    const stream = this.client.alerts.events(projectId, {
      after: this.events.at(-1)?.cursor ?? null,
      signal: this.signal,
      onReconnect: (err) => this.setMessage(`Connection to Ouro lost (${err.message}); reconnecting…`, "error"),
    });
    try {
      for await (const event of stream) {
        this.setMessage("Live", "live");
        if (event.alertId !== this.item.id || this.events.some((e) => e.cursor === event.cursor)) continue;
        this.events.push(event);
        this.render();
        // The event carries the new state; the alert row carries its timestamps.
        window.clearTimeout(this.reloadTimer);
        this.reloadTimer = window.setTimeout(() => void this.refresh().catch((err) => this.fail(err)), 200);
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private async ack(): Promise<void> {
    if (this.alert && (await acknowledgeAlert(this.connection, this.alert))) await this.refresh().catch((err) => this.fail(err));
  }

  /** A deleted object keeps its header for context, without actions that can no longer work. */
  protected override fail(err: unknown): void {
    super.fail(err);
    if (this.gone) this.header.querySelector(".ouro-actions")?.remove();
  }

  override dispose(): void {
    window.clearTimeout(this.reloadTimer);
    super.dispose();
  }
}
