import type { Viewer } from "../../platform/auth";
import { Bus } from "../../platform/bus";
import type { Config } from "../../platform/config";
import { sql, type Db, type Tx } from "../../platform/db";
import { badInput, notFound } from "../../platform/errors";
import type { Feed } from "../../platform/live";
import { recordAudit } from "../audit/audit.service";
import { DatasetVersionEntity } from "../datasets/dataset-version.entity";
import type { DatasetProfile } from "../datasets/profile.work";
import { DeploymentEntity } from "../deployments/deployment.entity";
import { enqueueJob } from "../jobs/job.service";
import { requireRole, requireRowAccess } from "../projects/project.service";
import { evaluateAlertRules, type FiredAlert } from "./alert.service";
import { checkQualityLimits, checkThresholds, checkWindow, MONITOR_KINDS, type MonitorConfig, type MonitorKind, type WindowSpec, windowKey } from "./monitor.config";
import { evaluateWindow, type LoggedPrediction } from "./monitor.evaluate";
import { MonitorResultEntity } from "./monitor-result.entity";
import { MonitorEntity } from "./monitor.entity";
import { resolveReference } from "./monitor.reference";

export const EVALUATE_MONITOR = "monitors.evaluate";
export const monitorTopic = (monitorId: string) => `monitor:${monitorId}`;

export interface CreateMonitor {
  deploymentId: string;
  name: string;
  kinds: MonitorKind[];
  referenceVersionId?: string | null;
  features?: string[] | null;
  windowMinutes?: number | null;
  windowPredictions?: number | null;
  potentialThreshold?: number | null;
  detectedThreshold?: number | null;
  quality?: Partial<MonitorConfig["quality"]> | null;
  task?: "classification" | "regression" | null;
  target?: string | null;
}

export async function accessMonitor(db: Db, viewer: Viewer, id: string, role: "viewer" | "editor" = "viewer"): Promise<MonitorEntity> {
  return requireRowAccess(db, viewer, await db.getRepository(MonitorEntity).findOneBy({ id }), "monitor", id, role);
}

/**
 * Creates a monitor on a deployment. Everything is checked before anything is written: the
 * deployment (NOT_FOUND outside the viewer's projects), the reference (explicit, or the deployed
 * model version's training data) and that it has a profile, the features, window and thresholds.
 */
export async function createMonitor(db: Db, viewer: Viewer, input: CreateMonitor, requestId?: string): Promise<MonitorEntity> {
  const deployment = await requireRowAccess(db, viewer, await db.getRepository(DeploymentEntity).findOneBy({ id: input.deploymentId }), "deployment", input.deploymentId, "editor");
  if (!/^[\w .:-]{1,100}$/.test(input.name)) throw badInput("name: 1 to 100 letters, digits, spaces or _ . : -", { field: "name" });
  const kinds = [...new Set(input.kinds)];
  if (kinds.length === 0 || kinds.some((k) => !MONITOR_KINDS.includes(k))) throw badInput(`kinds: one or more of ${MONITOR_KINDS.join(", ")}`, { field: "kinds" });
  const window = checkWindow(input.windowMinutes, input.windowPredictions);
  const thresholds = checkThresholds(input.potentialThreshold, input.detectedThreshold);
  const quality = checkQualityLimits(input.quality);
  if (input.referenceVersionId) {
    const v = await requireRowAccess(db, viewer, await db.getRepository(DatasetVersionEntity).findOneBy({ id: input.referenceVersionId }), "dataset version", input.referenceVersionId, "viewer");
    if (v.projectId !== deployment.projectId) throw badInput("the reference dataset version belongs to another project", { field: "referenceVersionId" });
  }
  const ref = await resolveReference(db, deployment, input.referenceVersionId ?? null);
  const version = await db.getRepository(DatasetVersionEntity).findOneBy({ id: ref.versionId, projectId: deployment.projectId });
  if (!version) throw badInput(`reference dataset version ${ref.versionId} is not in this project`, { field: "referenceVersionId" });
  const profile = version.profile as DatasetProfile | null;
  if (!profile?.columns) throw badInput(`reference dataset version ${version.id} has no profile yet: run profileDataset on it first`, { field: "referenceVersionId" });
  const target = input.target ?? ref.target;
  const columns = profile.columns.filter((c) => c.numeric || c.categorical).map((c) => c.name);
  // By default, identifier-like text (mostly distinct values: ids, dates kept as text) is left
  // out: every new value is "unseen" and its drift says nothing.
  const identifierLike = new Set(profile.columns.filter((c) => !c.numeric && c.categorical && c.count > 0 && c.distinct > 0.5 * c.count).map((c) => c.name));
  const features = input.features?.length ? [...new Set(input.features)] : columns.filter((c) => c !== target && !identifierLike.has(c));
  const unknown = features.filter((f) => !columns.includes(f));
  if (unknown.length) throw badInput(`feature(s) not in the reference profile (or neither numeric nor categorical): ${unknown.join(", ")}`, { field: "features" });
  if (input.task && !["classification", "regression"].includes(input.task)) throw badInput("task must be classification or regression", { field: "task" });
  const [{ seq }] = await sql<{ seq: string }>(db, "SELECT coalesce(max(seq), 0)::text AS seq FROM prediction_log WHERE deployment_id = $1", [deployment.id]);
  const config: MonitorConfig = {
    kinds, features, window, thresholds, quality,
    modelVersionId: ref.modelVersionId,
    target: target ?? null,
    task: input.task ?? ref.task,
    anchor: new Date().toISOString(),
    startSeq: seq,
  };
  return db.transaction(async (tx) => {
    const monitor = await tx.getRepository(MonitorEntity).save({
      projectId: deployment.projectId, name: input.name, deploymentId: deployment.id, kind: kinds.join(","), config,
      referenceVersionId: version.id, createdById: viewer.userId, status: "active",
    });
    await recordAudit(tx, { projectId: deployment.projectId, actorId: viewer.userId, action: "monitor.create", targetType: "monitor", targetId: monitor.id, data: { deploymentId: deployment.id, kinds, window, thresholds, referenceVersionId: version.id }, requestId });
    return monitor;
  });
}

/** Pauses (the scheduler skips it; runMonitorNow still works) or resumes a monitor. */
export async function setMonitorStatus(db: Db, viewer: Viewer, monitorId: string, status: "active" | "paused", requestId?: string): Promise<MonitorEntity> {
  const monitor = await accessMonitor(db, viewer, monitorId, "editor");
  if (status !== "active" && status !== "paused") throw badInput("status must be active or paused", { field: "status" });
  if (monitor.status === status) return monitor;
  return db.transaction(async (tx) => {
    await tx.query("UPDATE monitors SET status = $2 WHERE id = $1", [monitorId, status]);
    if (status === "active") {
      // Resuming does not evaluate what was logged while paused: scheduled windows restart
      // from now (the scheduler starts after the later of these and the last window).
      const [{ seq }] = await sql<{ seq: string }>(tx, "SELECT coalesce(max(seq), 0)::text AS seq FROM prediction_log WHERE deployment_id = $1", [monitor.deploymentId]);
      await tx.query("UPDATE monitors SET config = config || jsonb_build_object('anchor', $2::text, 'startSeq', $3::text) WHERE id = $1", [monitorId, new Date().toISOString(), seq]);
    }
    await recordAudit(tx, { projectId: monitor.projectId, actorId: viewer.userId, action: status === "paused" ? "monitor.pause" : "monitor.resume", targetType: "monitor", targetId: monitorId, requestId });
    return tx.findOneByOrFail(MonitorEntity, { id: monitorId });
  });
}

export async function listMonitorsQuery(db: Db, viewer: Viewer, projectId: string) {
  await requireRole(db, viewer, projectId, "viewer");
  return db.getRepository(MonitorEntity).createQueryBuilder("m").where("m.project_id = :projectId", { projectId });
}

/** Enqueues an evaluation of a monitor's window (the latest window when run by hand). */
export async function enqueueEvaluation(tx: Tx, monitor: MonitorEntity, window: WindowSpec, opts: { idempotencyKey: string | null; createdById: string | null; maxAttempts: number }) {
  return enqueueJob(tx, { projectId: monitor.projectId, kind: EVALUATE_MONITOR, payload: { monitorId: monitor.id, window }, idempotencyKey: opts.idempotencyKey, createdById: opts.createdById, maxAttempts: opts.maxAttempts });
}

export async function runMonitorNow(db: Db, viewer: Viewer, monitorId: string, config: Config, requestId?: string) {
  const monitor = await accessMonitor(db, viewer, monitorId, "editor");
  return db.transaction(async (tx) => {
    const { job } = await enqueueEvaluation(tx, monitor, { kind: "latest" }, { idempotencyKey: null, createdById: viewer.userId, maxAttempts: config.worker.maxAttempts });
    await recordAudit(tx, { projectId: monitor.projectId, actorId: viewer.userId, action: "monitor.run", targetType: "monitor", targetId: monitor.id, data: { jobId: job.id }, requestId });
    return job;
  });
}

interface LogRow { seq: string; request_id: string; inputs: Record<string, unknown>; outputs: LoggedPrediction["outputs"]; at: Date }

async function windowRows(db: Db, deploymentId: string, w: WindowSpec, monitor: MonitorEntity, maxRows: number): Promise<LogRow[]> {
  const cols = "seq::text, request_id, inputs, outputs, at";
  if (w.kind === "time") {
    return sql<LogRow>(db, `SELECT ${cols} FROM prediction_log WHERE deployment_id = $1 AND role = 'primary' AND at >= $2 AND at < $3 ORDER BY prediction_log.seq LIMIT $4`, [deploymentId, w.start, w.end, maxRows]);
  }
  if (w.kind === "count") {
    return sql<LogRow>(db, `SELECT ${cols} FROM prediction_log WHERE deployment_id = $1 AND role = 'primary' AND seq > $2 ORDER BY prediction_log.seq LIMIT $3`, [deploymentId, w.afterSeq, Math.min(w.size, maxRows)]);
  }
  // By hand: the latest window's worth — the last N predictions, or the last N minutes.
  const win = monitor.config.window;
  if (win.kind === "count") {
    const rows = await sql<LogRow>(db, `SELECT ${cols} FROM prediction_log WHERE deployment_id = $1 AND role = 'primary' ORDER BY prediction_log.seq DESC LIMIT $2`, [deploymentId, Math.min(win.predictions, maxRows)]);
    return rows.reverse();
  }
  const rows = await sql<LogRow>(
    db,
    `SELECT ${cols} FROM prediction_log WHERE deployment_id = $1 AND role = 'primary' AND at >= now() - make_interval(mins => $2) ORDER BY prediction_log.seq DESC LIMIT $3`,
    [deploymentId, win.minutes, maxRows],
  );
  return rows.reverse();
}

/**
 * The job's work: reads the window, evaluates it, stores the result and applies the alert
 * rules, all in one transaction; a retried job finds its window stored and changes nothing.
 * Returns the result and the alerts that started firing (their pipelines are triggered after
 * commit by the caller).
 */
/**
 * Exact KS against the raw reference data for numeric features, given the reference version
 * and the window's values per column (the job runs it in a subprocess). Without it, or when it
 * fails, KS comes from the profile's histogram.
 */
export type ExactKs = (version: DatasetVersionEntity, columns: { name: string; values: number[] }[]) => Promise<{ name: string; statistic: number | null; pValue: number | null }[]>;

export async function evaluateAndStore(db: Db, monitorId: string, w: WindowSpec, jobId: string, config: Config, exactKs?: ExactKs): Promise<{ result: MonitorResultEntity; fired: FiredAlert[]; created: boolean; note?: string }> {
  const monitor = await db.getRepository(MonitorEntity).findOneBy({ id: monitorId });
  if (!monitor) throw notFound("monitor", monitorId);
  if (!monitor.deploymentId) throw badInput(`monitor ${monitorId} has no deployment`);
  const key = windowKey(w, jobId);
  const existing = await db.getRepository(MonitorResultEntity).findOneBy({ monitorId, windowKey: key });
  if (existing) return { result: existing, fired: [], created: false };
  const version = monitor.referenceVersionId ? await db.getRepository(DatasetVersionEntity).findOneBy({ id: monitor.referenceVersionId }) : null;
  const profile = version?.profile as DatasetProfile | null | undefined;
  if (!profile?.columns) throw badInput(`monitor ${monitorId}: its reference dataset version is gone or has no profile`);
  const rows = await windowRows(db, monitor.deploymentId, w, monitor, config.monitoring.maxWindowRows);
  const labels = new Map<string, unknown>();
  if (rows.length && monitor.config.kinds.includes("performance")) {
    const found = await sql<{ request_id: string; label: unknown }>(db, "SELECT request_id, label FROM prediction_labels WHERE deployment_id = $1 AND request_id = ANY($2::text[])", [monitor.deploymentId, rows.map((r) => r.request_id)]);
    for (const l of found) labels.set(l.request_id, l.label);
  }
  const evaluation = evaluateWindow(profile, monitor.config, rows.map((r) => ({ requestId: r.request_id, inputs: r.inputs ?? {}, outputs: r.outputs ?? {} })), labels);
  let note: string | undefined;
  const numeric = evaluation.features.filter((f) => f.kind === "numeric" && f.count > 0);
  if (exactKs && version?.artifactId && numeric.length) {
    try {
      const columns = numeric.map((f) => ({ name: f.name, values: rows.map((r) => r.inputs?.[f.name]).filter((v): v is number => typeof v === "number" && Number.isFinite(v)) }));
      const exact = new Map((await exactKs(version, columns)).map((k) => [k.name, k]));
      for (const f of numeric) {
        const k = exact.get(f.name);
        if (!k) continue;
        f.metrics = { ...f.metrics, ksBinned: f.metrics.ks, ks: k.statistic, ksPValue: k.pValue };
      }
    } catch (err) {
      note = `KS from the profile's histogram: the reference data could not be read (${(err as Error).message})`;
    }
  }
  const start = w.kind === "time" ? new Date(w.start) : rows[0]?.at ?? null;
  const end = w.kind === "time" ? new Date(w.end) : rows[rows.length - 1]?.at ?? null;
  // A count window is complete only with `size` rows; fewer means the scheduler ran early.
  const firstSeq = rows[0]?.seq ?? null;
  const lastSeq = rows[rows.length - 1]?.seq ?? (w.kind === "count" ? w.afterSeq : null);
  return db.transaction(async (tx) => {
    // Writers of one monitor take turns: seq follows commit order (monitorUpdates' cursor).
    await tx.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [monitorTopic(monitorId)]);
    const inserted = await sql<{ seq: string }>(
      tx,
      `INSERT INTO monitor_results (monitor_id, project_id, window_key, window_start, window_end, first_seq, last_seq, predictions, status, drift_score, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (monitor_id, window_key) DO NOTHING RETURNING seq::text`,
      [monitorId, monitor.projectId, key, start, end, firstSeq, lastSeq, rows.length, evaluation.status, evaluation.driftScore,
        { features: evaluation.features, prediction: evaluation.prediction, performance: evaluation.performance, quality: evaluation.quality }],
    );
    if (inserted.length === 0) {
      return { result: await tx.findOneByOrFail(MonitorResultEntity, { monitorId, windowKey: key }), fired: [], created: false };
    }
    const result = await tx.findOneByOrFail(MonitorResultEntity, { seq: inserted[0].seq });
    const fired = await evaluateAlertRules(tx, monitor, result, config);
    await Bus.publish(tx, monitorTopic(monitorId));
    return { result, fired, created: true, note };
  });
}

export function monitorFeed(db: Db, monitorId: string): Feed<MonitorResultEntity> {
  return {
    topic: monitorTopic(monitorId),
    fetchAfter: (cursor, limit) =>
      db.getRepository(MonitorResultEntity).createQueryBuilder("r")
        .where("r.monitor_id = :monitorId AND r.seq > :cursor", { monitorId, cursor: cursor.toString() })
        .orderBy("r.seq", "ASC").limit(limit).getMany(),
    cursorOf: (r) => BigInt(r.seq),
  };
}

/** Results in window order after `after` (a result's cursor), at most `first`, plus the total. */
export async function resultsPage(db: Db, monitorId: string, first: number, after: bigint) {
  const rows = await monitorFeed(db, monitorId).fetchAfter(after, first + 1);
  const [{ n }] = await sql<{ n: number }>(db, "SELECT count(*)::int AS n FROM monitor_results WHERE monitor_id = $1", [monitorId]);
  const nodes = rows.slice(0, first);
  return { nodes, totalCount: n, hasNextPage: rows.length > first, endCursor: nodes.length ? nodes[nodes.length - 1].seq : null };
}

export async function latestResult(db: Db, monitorId: string): Promise<MonitorResultEntity | null> {
  return db.getRepository(MonitorResultEntity).findOne({ where: { monitorId }, order: { seq: "DESC" } });
}
