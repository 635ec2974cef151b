import type { Viewer } from "../../platform/auth";
import { Bus } from "../../platform/bus";
import type { Config } from "../../platform/config";
import { sql, type Db, type Tx } from "../../platform/db";
import { badInput, notFound, OuroError } from "../../platform/errors";
import type { Feed } from "../../platform/live";
import { recordAudit } from "../audit/audit.service";
import { enqueueJob } from "../jobs/job.service";
import { requireRole, requireRowAccess } from "../projects/project.service";
import { AlertEventEntity } from "./alert-event.entity";
import { AlertRuleEntity, SEVERITIES, type Severity } from "./alert-rule.entity";
import { AlertEntity, type AlertState } from "./alert.entity";
import { checkRuleMetric, metricValue } from "./monitor.evaluate";
import type { MonitorResultEntity } from "./monitor-result.entity";
import type { MonitorEntity } from "./monitor.entity";
import { checkWebhookAddress, newWebhookSecret } from "./webhook";

export const DELIVER_WEBHOOK = "monitors.webhook";
export const alertTopic = (projectId: string) => `alerts:${projectId}`;

export interface CreateAlertRule {
  monitorId: string;
  name: string;
  metric: string;
  direction?: "above" | "below" | null;
  threshold: number;
  forWindows?: number | null;
  severity?: Severity | null;
  webhookUrl?: string | null;
  webhookSecret?: string | null;
}

export interface FiredAlert {
  alertId: string;
  projectId: string;
  monitorId: string;
}

/** A rule's condition on one value ("above" means ≥ threshold, "below" means ≤ threshold). */
export const holds = (rule: Pick<AlertRuleEntity, "direction" | "threshold">, v: number | null) => v !== null && (rule.direction === "above" ? v >= rule.threshold : v <= rule.threshold);

export async function createAlertRule(db: Db, viewer: Viewer, monitor: MonitorEntity, input: CreateAlertRule, config: Config, requestId?: string): Promise<{ rule: AlertRuleEntity; webhookSecret: string | null }> {
  if (!/^[\w .:-]{1,100}$/.test(input.name)) throw badInput("name: 1 to 100 letters, digits, spaces or _ . : -", { field: "name" });
  const metricProblem = checkRuleMetric(input.metric, monitor.config.features);
  if (metricProblem) throw badInput(metricProblem, { field: "metric" });
  if (!Number.isFinite(input.threshold)) throw badInput("threshold must be a finite number", { field: "threshold" });
  if (input.metric === "status" && ![0, 1, 2].includes(input.threshold)) throw badInput("for metric status the threshold is 1 (potential drift) or 2 (drift detected)", { field: "threshold" });
  const forWindows = input.forWindows ?? 1;
  if (!Number.isInteger(forWindows) || forWindows < 1 || forWindows > 1000) throw badInput("forWindows must be a whole number from 1 to 1000", { field: "forWindows" });
  const severity = input.severity ?? "warning";
  if (!SEVERITIES.includes(severity)) throw badInput(`severity must be one of ${SEVERITIES.join(", ")}`, { field: "severity" });
  let secret: string | null = null;
  if (input.webhookUrl) {
    await checkWebhookAddress(input.webhookUrl, config.monitoring.webhookReach);
    if (input.webhookSecret != null && (input.webhookSecret.length < 16 || input.webhookSecret.length > 200)) throw badInput("webhookSecret must be 16 to 200 characters", { field: "webhookSecret" });
    secret = input.webhookSecret ?? newWebhookSecret();
  } else if (input.webhookSecret) throw badInput("webhookSecret without webhookUrl", { field: "webhookSecret" });
  return db.transaction(async (tx) => {
    const rule = await tx.getRepository(AlertRuleEntity).save({
      projectId: monitor.projectId, monitorId: monitor.id, name: input.name, metric: input.metric, direction: input.direction ?? "above",
      threshold: input.threshold, forWindows, severity, webhookUrl: input.webhookUrl ?? null, webhookSecret: secret, enabled: true, createdById: viewer.userId,
    });
    await recordAudit(tx, { projectId: monitor.projectId, actorId: viewer.userId, action: "alertRule.create", targetType: "alertRule", targetId: rule.id, data: { monitorId: monitor.id, metric: rule.metric, direction: rule.direction, threshold: rule.threshold, forWindows, severity, webhook: !!rule.webhookUrl }, requestId });
    // The secret is returned this once (unless the caller chose it) and never again.
    return { rule, webhookSecret: input.webhookSecret ? null : secret };
  });
}

async function appendEvent(tx: Tx, alert: AlertEntity, state: AlertState, actorId: string | null, data: Record<string, unknown>): Promise<string> {
  // Writers of one project's alert events take turns: seq follows commit order.
  await tx.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [alertTopic(alert.projectId)]);
  const [{ seq }] = await sql<{ seq: string }>(
    tx,
    "INSERT INTO alert_events (project_id, alert_id, rule_id, state, actor_id, data) VALUES ($1, $2, $3, $4, $5, $6) RETURNING seq::text",
    [alert.projectId, alert.id, alert.ruleId, state, actorId, data],
  );
  await Bus.publish(tx, alertTopic(alert.projectId));
  return seq;
}

async function notify(tx: Tx, rule: AlertRuleEntity, alert: AlertEntity, state: AlertState, eventSeq: string, maxAttempts: number): Promise<void> {
  if (!rule.webhookUrl) return;
  const body = JSON.stringify({
    type: `alert.${state}`,
    eventId: eventSeq,
    alert: { id: alert.id, state, severity: alert.severity, message: alert.message, monitorId: alert.monitorId, ruleId: rule.id, projectId: alert.projectId, details: alert.details, createdAt: alert.createdAt },
    rule: { id: rule.id, name: rule.name, metric: rule.metric, direction: rule.direction, threshold: rule.threshold, forWindows: rule.forWindows },
    at: new Date().toISOString(),
  });
  // The body is fixed now, so every retry sends (and signs) the same bytes.
  await enqueueJob(tx, { projectId: alert.projectId, kind: DELIVER_WEBHOOK, payload: { ruleId: rule.id, eventSeq, body }, idempotencyKey: `alert-webhook:${eventSeq}`, createdById: null, maxAttempts });
}

/**
 * Applies a monitor's rules to a new result, inside the transaction that stores it. A rule
 * fires when its condition held for its last `forWindows` results (windows that did not measure
 * the metric break the streak); an open alert resolves when the newest measured value no longer
 * meets the condition.
 */
export async function evaluateAlertRules(tx: Tx, monitor: MonitorEntity, result: MonitorResultEntity, config: Config): Promise<FiredAlert[]> {
  const rules = await tx.getRepository(AlertRuleEntity).findBy({ monitorId: monitor.id, enabled: true });
  const fired: FiredAlert[] = [];
  for (const rule of rules) {
    const current = metricValue(result, rule.metric);
    if (current === null) continue;
    const open = await tx.getRepository(AlertEntity).createQueryBuilder("a").setLock("pessimistic_write")
      .where("a.rule_id = :ruleId AND a.state <> 'resolved'", { ruleId: rule.id }).getOne();
    if (holds(rule, current)) {
      if (open) continue;
      const recent = await sql<{ status: MonitorResultEntity["status"]; drift_score: number | null; details: Record<string, unknown> }>(
        tx, "SELECT status, drift_score, details FROM monitor_results WHERE monitor_id = $1 AND seq <= $2 ORDER BY monitor_results.seq DESC LIMIT $3", [monitor.id, result.seq, rule.forWindows],
      );
      if (recent.length < rule.forWindows || !recent.every((r) => holds(rule, metricValue({ status: r.status, driftScore: r.drift_score, details: r.details }, rule.metric)))) continue;
      const message = `${monitor.name}: ${rule.metric} ${rule.direction === "above" ? "≥" : "≤"} ${rule.threshold} for ${rule.forWindows} window(s) (now ${Number(current.toFixed(6))})`;
      const alert = await tx.getRepository(AlertEntity).save({
        projectId: monitor.projectId, monitorId: monitor.id, ruleId: rule.id, state: "firing", severity: rule.severity, message,
        details: { ruleName: rule.name, metric: rule.metric, value: current, threshold: rule.threshold, direction: rule.direction, resultSeq: result.seq, windowKey: result.windowKey },
      });
      const seq = await appendEvent(tx, alert, "firing", null, { value: current, resultSeq: result.seq });
      await recordAudit(tx, { projectId: monitor.projectId, actorId: null, action: "alert.fire", targetType: "alert", targetId: alert.id, data: { ruleId: rule.id, monitorId: monitor.id, value: current, resultSeq: result.seq } });
      await notify(tx, rule, alert, "firing", seq, config.worker.maxAttempts);
      fired.push({ alertId: alert.id, projectId: monitor.projectId, monitorId: monitor.id });
    } else if (open) {
      const resolved = await tx.getRepository(AlertEntity).save({ ...open, state: "resolved" as const, resolvedAt: new Date(), updatedAt: new Date() });
      const seq = await appendEvent(tx, resolved, "resolved", null, { value: current, resultSeq: result.seq });
      await recordAudit(tx, { projectId: monitor.projectId, actorId: null, action: "alert.resolve", targetType: "alert", targetId: open.id, data: { ruleId: rule.id, value: current, resultSeq: result.seq } });
      await notify(tx, rule, resolved, "resolved", seq, config.worker.maxAttempts);
    }
  }
  return fired;
}

/** Turns a rule off (it no longer fires, and its open alert resolves now) or back on. */
export async function setAlertRuleEnabled(db: Db, viewer: Viewer, ruleId: string, enabled: boolean, config: Config, requestId?: string): Promise<AlertRuleEntity> {
  const rule = await requireRowAccess(db, viewer, await db.getRepository(AlertRuleEntity).findOneBy({ id: ruleId }), "alert rule", ruleId, "editor");
  return db.transaction(async (tx) => {
    await tx.query("UPDATE alert_rules SET enabled = $2 WHERE id = $1", [ruleId, enabled]);
    const open = enabled ? null : await tx.getRepository(AlertEntity).createQueryBuilder("a").setLock("pessimistic_write").where("a.rule_id = :ruleId AND a.state <> 'resolved'", { ruleId }).getOne();
    if (open) {
      // Nothing would ever resolve it otherwise: a disabled rule is not evaluated.
      const resolved = await tx.getRepository(AlertEntity).save({ ...open, state: "resolved" as const, resolvedAt: new Date(), updatedAt: new Date() });
      const seq = await appendEvent(tx, resolved, "resolved", viewer.userId, { reason: "rule disabled" });
      await recordAudit(tx, { projectId: rule.projectId, actorId: viewer.userId, action: "alert.resolve", targetType: "alert", targetId: open.id, data: { ruleId, reason: "rule disabled" }, requestId });
      await notify(tx, rule, resolved, "resolved", seq, config.worker.maxAttempts);
    }
    await recordAudit(tx, { projectId: rule.projectId, actorId: viewer.userId, action: enabled ? "alertRule.enable" : "alertRule.disable", targetType: "alertRule", targetId: ruleId, requestId });
    return tx.findOneByOrFail(AlertRuleEntity, { id: ruleId });
  });
}

export async function accessAlert(db: Db, viewer: Viewer, id: string, role: "viewer" | "editor" = "viewer"): Promise<AlertEntity> {
  return requireRowAccess(db, viewer, await db.getRepository(AlertEntity).findOneBy({ id }), "alert", id, role);
}

/** firing → acknowledged; anything else is a CONFLICT (an alert resolves by itself). */
export async function acknowledgeAlert(db: Db, viewer: Viewer, id: string, config: Config, requestId?: string): Promise<AlertEntity> {
  await accessAlert(db, viewer, id, "editor");
  return db.transaction(async (tx) => {
    const alert = await tx.getRepository(AlertEntity).createQueryBuilder("a").setLock("pessimistic_write").where("a.id = :id", { id }).getOne();
    if (!alert) throw notFound("alert", id);
    if (alert.state !== "firing") throw new OuroError("CONFLICT", `alert ${id} is ${alert.state}; only a firing alert can be acknowledged`);
    const now = new Date();
    const acked = await tx.getRepository(AlertEntity).save({ ...alert, state: "acknowledged" as const, acknowledgedAt: now, acknowledgedById: viewer.userId, updatedAt: now });
    const seq = await appendEvent(tx, acked, "acknowledged", viewer.userId, {});
    await recordAudit(tx, { projectId: alert.projectId, actorId: viewer.userId, action: "alert.acknowledge", targetType: "alert", targetId: id, requestId });
    const rule = alert.ruleId ? await tx.getRepository(AlertRuleEntity).findOneBy({ id: alert.ruleId }) : null;
    if (rule) await notify(tx, rule, acked, "acknowledged", seq, config.worker.maxAttempts);
    return acked;
  });
}

export async function alertsQuery(db: Db, viewer: Viewer, projectId: string, state: AlertState | null) {
  await requireRole(db, viewer, projectId, "viewer");
  const qb = db.getRepository(AlertEntity).createQueryBuilder("a").where("a.project_id = :projectId", { projectId });
  if (state) qb.andWhere("a.state = :state", { state });
  return qb;
}

export async function rulesOf(db: Db, monitorId: string): Promise<AlertRuleEntity[]> {
  return db.getRepository(AlertRuleEntity).find({ where: { monitorId }, order: { createdAt: "ASC" } });
}

/** One alert's state changes in order (a few per alert; indexed by alert). */
export function alertHistory(db: Db, alertId: string): Promise<AlertEventEntity[]> {
  return db.getRepository(AlertEventEntity).find({ where: { alertId }, order: { seq: "ASC" } });
}

export function alertEventsFeed(db: Db, projectId: string): Feed<AlertEventEntity> {
  return {
    topic: alertTopic(projectId),
    fetchAfter: (cursor, limit) =>
      db.getRepository(AlertEventEntity).createQueryBuilder("e")
        .where("e.project_id = :projectId AND e.seq > :cursor", { projectId, cursor: cursor.toString() })
        .orderBy("e.seq", "ASC").limit(limit).getMany(),
    cursorOf: (e) => BigInt(e.seq),
  };
}
