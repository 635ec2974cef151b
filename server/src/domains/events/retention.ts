import pg from "pg";
import { sql, type Db, type Tx } from "../../platform/db";
import type { AppServices } from "../../platform/graphql/context";
import { recordAudit } from "../audit/audit.service";
import type { Aggregation } from "./event.entity";
import { DAY_MS, partitionName } from "./ingest.service";

/** How often a worker runs the retention pass: partitions are whole days, so hourly is plenty. */
const PASS_EVERY_MS = 3_600_000;
/** History kept beyond what a feature set's windows strictly need (minute rounding, clocks). */
const MARGIN_MS = DAY_MS;
/** Longest a drop waits for ingest and exports to let go of the events table; else it waits for the next pass. */
const LOCK_TIMEOUT = "2s";
const PASS_LOCK = "ouro.events.retention";
const PARTITION = /^events_p(\d{4})(\d{2})(\d{2})$/;

/** The stretch of history one event feature set may still read to rebuild its windows. */
export interface HistoryNeed {
  featureSetId: string;
  projectId: string;
  name: string;
  /** Epoch ms: from `from` to `to` (its watermark), both included. */
  from: number;
  to: number;
  reason: string;
}

export interface PartitionDay {
  name: string;
  /** The UTC day, YYYY-MM-DD. */
  day: string;
  start: number;
}

export interface RetentionPlan {
  /** Partitions whose whole day ends at or before this (epoch ms) are past retention. */
  cutoff: number;
  drop: PartitionDay[];
  /** Past retention, kept because a feature set's windows may still read them. */
  kept: (PartitionDay & { neededBy: HistoryNeed[] })[];
}

export interface DroppedPartition extends PartitionDay {
  rows: number;
}

export interface RetentionReport {
  retentionDays: number;
  cutoff: Date;
  dropped: DroppedPartition[];
  kept: RetentionPlan["kept"];
}

const minutesText = (m: number) => (m % 1440 === 0 ? `${m / 1440}d` : m % 60 === 0 ? `${m / 60}h` : `${m}m`);

/**
 * What each event feature set with events still needs. A new event is accepted from its
 * watermark minus the allowed lateness on, and recomputing an entity's windows reads its
 * events within the longest window before the entity's latest event (apply.ts
 * rebuildWindows), which is at least that early. So the history from watermark − lateness −
 * longest window (− a day of margin) up to the watermark must stay; the feature set has no
 * events after its watermark. A feature set with no watermark has no events yet.
 */
async function historyNeeds(via: Db | Tx): Promise<HistoryNeed[]> {
  const rows = await sql<{ feature_set_id: string; project_id: string; name: string; watermark: Date; lateness: number; aggregations: Aggregation[] }>(
    via,
    `SELECT s.feature_set_id, s.project_id, f.name, s.watermark, s.allowed_lateness_seconds AS lateness, s.aggregations
     FROM event_sources s JOIN feature_sets f ON f.id = s.feature_set_id WHERE s.watermark IS NOT NULL`,
  );
  return rows.map((r) => {
    const longest = Math.max(...r.aggregations.map((a) => a.windowMinutes));
    const to = r.watermark.getTime();
    return {
      featureSetId: r.feature_set_id,
      projectId: r.project_id,
      name: r.name,
      from: to - r.lateness * 1000 - longest * 60_000 - MARGIN_MS,
      to,
      reason: `its longest window (${minutesText(longest)}) + allowed lateness (${r.lateness} s) + 1 day of margin before its watermark ${r.watermark.toISOString()}`,
    };
  });
}

/** Which day partitions past retention to drop, and which to keep for a feature set that needs them. */
export function planRetention(partitions: string[], needs: HistoryNeed[], retentionDays: number, now: number): RetentionPlan {
  const cutoff = now - retentionDays * DAY_MS;
  const plan: RetentionPlan = { cutoff, drop: [], kept: [] };
  const days = partitions
    .map((name) => {
      const m = PARTITION.exec(name);
      const start = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
      // Only names the ingest path gives (a table someone attached by hand is left alone).
      return Number.isFinite(start) && partitionName(start / DAY_MS) === name ? { name, day: new Date(start).toISOString().slice(0, 10), start } : null;
    })
    .filter((p): p is PartitionDay => p !== null && p.start + DAY_MS <= cutoff)
    .sort((a, b) => a.start - b.start);
  for (const p of days) {
    const neededBy = needs.filter((n) => p.start <= n.to && p.start + DAY_MS > n.from);
    if (neededBy.length) plan.kept.push({ ...p, neededBy });
    else plan.drop.push(p);
  }
  return plan;
}

async function dayPartitions(via: Db | Tx): Promise<string[]> {
  const rows = await sql<{ name: string }>(via, `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'events'::regclass`);
  return rows.map((r) => r.name);
}

/**
 * Drops one day partition, audited. Rows are counted first, per feature set (one scan of a
 * day that is about to go). The drop then takes the events table exclusively — waiting at
 * most LOCK_TIMEOUT for ingest transactions and exports to finish — and decides again with
 * the watermarks committed by then, so a batch that just made the day needed keeps it. A
 * batch that comes after the drop re-creates the day if its events are still accepted
 * (ingest.service.ts).
 */
async function dropPartition(app: Pick<AppServices, "db" | "log">, p: PartitionDay, retentionDays: number, now: number): Promise<DroppedPartition | null> {
  const counts = await sql<{ feature_set_id: string; project_id: string | null; n: number }>(
    app.db,
    `SELECT e.feature_set_id, f.project_id, e.n
     FROM (SELECT feature_set_id, count(*)::float8 AS n FROM ${p.name} GROUP BY feature_set_id) e
     LEFT JOIN feature_sets f ON f.id = e.feature_set_id ORDER BY e.feature_set_id`,
  );
  const rows = counts.reduce((s, c) => s + c.n, 0);
  try {
    return await app.db.transaction(async (tx) => {
      await tx.query(`SET LOCAL lock_timeout = '${LOCK_TIMEOUT}'`);
      await tx.query("LOCK TABLE events IN ACCESS EXCLUSIVE MODE");
      const again = planRetention(await dayPartitions(tx), await historyNeeds(tx), retentionDays, now);
      if (!again.drop.some((d) => d.name === p.name)) return null;
      await tx.query(`DROP TABLE ${p.name}`);
      const data = { partition: p.name, day: p.day, retentionDays };
      await recordAudit(tx, { projectId: null, actorId: null, action: "events.dropPartition", targetType: "eventPartition", targetId: p.name, data: { ...data, rows } });
      for (const c of counts) {
        if (!c.project_id) continue;
        await recordAudit(tx, { projectId: c.project_id, actorId: null, action: "featureSet.expireEventHistory", targetType: "featureSet", targetId: c.feature_set_id, data: { ...data, rows: c.n } });
      }
      return { ...p, rows };
    });
  } catch (err) {
    if ((err as { code?: string }).code !== "55P03") throw err;
    app.log.info({ partition: p.name }, "event history partition busy; dropping it at the next retention pass");
    return null;
  }
}

/**
 * Audits, per feature set, the partitions past retention kept for it — once per new set of
 * partitions, not at every pass (the audit row of the last pass is compared).
 */
async function auditExtensions(db: Db, plan: RetentionPlan, retentionDays: number): Promise<void> {
  const byFeatureSet = new Map<string, { need: HistoryNeed; partitions: string[] }>();
  for (const k of plan.kept) {
    for (const n of k.neededBy) {
      const e = byFeatureSet.get(n.featureSetId) ?? { need: n, partitions: [] };
      e.partitions.push(k.name);
      byFeatureSet.set(n.featureSetId, e);
    }
  }
  for (const [featureSetId, { need, partitions }] of byFeatureSet) {
    await db.transaction(async (tx) => {
      const [last] = await sql<{ partitions: string[] }>(
        tx,
        `SELECT data->'partitions' AS partitions FROM audit_events WHERE project_id = $1 AND action = 'featureSet.extendEventRetention' AND target_id = $2 ORDER BY seq DESC LIMIT 1`,
        [need.projectId, featureSetId],
      );
      if (last && partitions.every((p) => last.partitions.includes(p))) return;
      await recordAudit(tx, {
        projectId: need.projectId,
        actorId: null,
        action: "featureSet.extendEventRetention",
        targetType: "featureSet",
        targetId: featureSetId,
        data: { retentionDays, partitions, keptFrom: new Date(need.from).toISOString(), reason: need.reason },
      });
    });
  }
}

type RetentionApp = Pick<AppServices, "db" | "log" | "config" | "databaseUrl">;

/**
 * One retention pass (OURO_EVENTS_RETENTION_DAYS; 0 keeps everything and does nothing):
 * drops the day partitions of the event history whose whole day is older than now − the
 * retention, except those an event feature set may still read to rebuild its windows
 * (historyNeeds) — those are kept, logged and audited with the reason. One worker at a time:
 * the others skip the pass. The lock is a session advisory lock on a connection of its own,
 * so the pass never waits for a pool connection it holds itself. Returns null when it did not
 * run, including when that connection cannot be made (the next pass tries again).
 */
export async function runRetentionPass(app: RetentionApp, now = Date.now()): Promise<RetentionReport | null> {
  const retentionDays = app.config.events.retentionDays;
  if (retentionDays <= 0) return null;
  // A connect that is never answered must not hang the pass (later ticks skip while one runs).
  const lock = new pg.Client({ connectionString: app.databaseUrl, application_name: "ouro-event-retention", connectionTimeoutMillis: app.config.dbConnectTimeoutMs });
  lock.on("error", (err) => app.log.warn({ err: err.message }, "event retention lock connection error"));
  if (!(await connectLock(app, lock))) return null;
  try {
    const { rows } = await lock.query<{ got: boolean }>("SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS got", [PASS_LOCK]);
    return rows[0].got ? await retentionPass(app, retentionDays, now) : null;
  } finally {
    // Ending the session releases its lock.
    await lock.end().catch(() => undefined);
  }
}

/**
 * Connects the lock's own client. A failed connect can leave its socket open (a server that
 * answers with an error and waits), so the client is ended before the pass gives up.
 */
async function connectLock(app: RetentionApp, lock: pg.Client): Promise<boolean> {
  try {
    await lock.connect();
    return true;
  } catch (err) {
    await lock.end().catch(() => undefined);
    app.log.warn({ err: (err as Error).message }, "event retention pass skipped: could not connect for its lock");
    return false;
  }
}

async function retentionPass(app: RetentionApp, retentionDays: number, now: number): Promise<RetentionReport> {
  const plan = planRetention(await dayPartitions(app.db), await historyNeeds(app.db), retentionDays, now);
  const dropped: DroppedPartition[] = [];
  for (const p of plan.drop) {
    const d = await dropPartition(app, p, retentionDays, now);
    if (d) dropped.push(d);
  }
  if (plan.kept.length) {
    await auditExtensions(app.db, plan, retentionDays);
    app.log.info(
      {
        retentionDays,
        kept: plan.kept.map((k) => ({ partition: k.name, neededBy: k.neededBy.map((n) => ({ featureSet: n.name, featureSetId: n.featureSetId, reason: n.reason })) })),
      },
      "event history kept beyond its retention: feature set windows still need it",
    );
  }
  if (dropped.length) app.log.info({ retentionDays, dropped: dropped.map((d) => ({ partition: d.name, rows: d.rows })) }, "event history partitions dropped");
  return { retentionDays, cutoff: new Date(plan.cutoff), dropped, kept: plan.kept };
}

/**
 * Runs the retention pass in a worker: once at start, then hourly. Every worker may run it;
 * the pass's advisory lock lets one at a time do the work.
 */
export function startEventRetention(app: RetentionApp): { stop(): Promise<void> } {
  if (app.config.events.retentionDays <= 0) return { stop: async () => undefined };
  let current: Promise<unknown> | null = null;
  const tick = () => {
    current ??= runRetentionPass(app)
      .catch((err: unknown) => app.log.warn({ err: (err as Error).message }, "event retention pass failed"))
      .finally(() => (current = null));
  };
  const timer = setInterval(tick, PASS_EVERY_MS);
  timer.unref();
  tick();
  return {
    async stop() {
      clearInterval(timer);
      await current;
    },
  };
}
