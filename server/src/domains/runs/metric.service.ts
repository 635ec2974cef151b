import type { Viewer } from "../../platform/auth";
import { BUS_CHANNEL } from "../../platform/bus";
import { sql, type Db } from "../../platform/db";
import { badInput, OuroError } from "../../platform/errors";
import type { Feed } from "../../platform/live";
import { accessRun, runLockKey } from "./run.service";

export const MAX_POINTS_PER_BATCH = 10_000;
const KEY = /^[\w .:\-/]{1,250}$/;
const MAX_STEP = Number.MAX_SAFE_INTEGER;

export const metricsTopic = (runId: string) => `run-metrics:${runId}`;

export interface MetricInput {
  key: string;
  value: number;
  step: number;
  timestamp?: Date | null;
}

export interface MetricPoint {
  seq: bigint;
  key: string;
  step: number;
  value: number;
  timestamp: Date;
}

export interface LogMetricsResult {
  accepted: number;
  duplicates: number;
  /** Cursor of the last point now stored for the run. */
  cursor: string;
}

/** Every point is checked before any is written: one bad point rejects the batch, with its index. */
export function validatePoints(points: MetricInput[]): void {
  if (points.length > MAX_POINTS_PER_BATCH) throw badInput(`at most ${MAX_POINTS_PER_BATCH} points per batch; got ${points.length}`);
  points.forEach((p, i) => {
    if (typeof p.key !== "string" || !KEY.test(p.key) || p.key.includes("..")) {
      throw badInput(`point ${i}: metric key must be 1 to 250 letters, digits, spaces or . : - / _, without '..'`, { index: i, field: "key" });
    }
    if (typeof p.value !== "number" || !Number.isFinite(p.value)) {
      throw badInput(`point ${i} (${p.key}): value must be a finite number`, { index: i, field: "value" });
    }
    if (!Number.isInteger(p.step) || p.step < 0 || p.step > MAX_STEP) {
      throw badInput(`point ${i} (${p.key}): step must be a whole number from 0 to ${MAX_STEP}`, { index: i, field: "step" });
    }
    if (p.timestamp != null && Number.isNaN(new Date(p.timestamp).getTime())) {
      throw badInput(`point ${i} (${p.key}): timestamp is not a valid date`, { index: i, field: "timestamp" });
    }
  });
}

/**
 * Stores a batch of points. (run, key, step) is unique and the first value wins, so a client
 * may resend a batch after a timeout without doubling anything. Writers of one run take
 * turns (advisory lock), which keeps `seq` in commit order for subscription cursors.
 */
export async function logMetrics(db: Db, viewer: Viewer, runId: string, points: MetricInput[]): Promise<LogMetricsResult> {
  validatePoints(points);
  await accessRun(db, viewer, runId, "editor");
  return insertPoints(db, runId, points);
}

/** logMetrics without the access check, for Ouro's own jobs writing to their runs. */
export async function appendMetrics(db: Db, runId: string, points: MetricInput[]): Promise<LogMetricsResult> {
  validatePoints(points);
  return insertPoints(db, runId, points);
}

async function insertPoints(db: Db, runId: string, points: MetricInput[]): Promise<LogMetricsResult> {
  const now = new Date().toISOString();
  const keys: string[] = [];
  const steps: number[] = [];
  const values: number[] = [];
  const times: string[] = [];
  for (const p of points) {
    keys.push(p.key);
    steps.push(p.step);
    values.push(p.value);
    times.push(p.timestamp ? new Date(p.timestamp).toISOString() : now);
  }
  return db.transaction(async (tx) => {
    // Writers of one run take turns, so `seq` follows commit order (subscription cursors rely
    // on it). The lock comes first, in its own statement: the next one then sees everything
    // committed before it was granted (READ COMMITTED takes a snapshot per statement).
    await tx.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [runLockKey(runId)]);
    // One statement: check the run, insert, mark it alive (at most once a second: a row
    // update) and announce the new points on commit.
    const [res] = await sql<{ status: string | null; accepted: number; last: string | null }>(
      tx,
      `WITH run AS (SELECT status FROM runs WHERE id = $1),
       ins AS (
         INSERT INTO metric_points (run_id, key, step, value, recorded_at)
         SELECT $1, k, s, v, t FROM unnest($2::text[], $3::bigint[], $4::float8[], $5::timestamptz[]) AS u(k, s, v, t)
         WHERE (SELECT status FROM run) = 'running'
         ON CONFLICT (run_id, key, step) DO NOTHING
         RETURNING seq),
       beat AS (
         UPDATE runs SET heartbeat_at = now()
         WHERE id = $1 AND status = 'running' AND heartbeat_at < now() - interval '1 second' RETURNING id),
       summary AS (SELECT count(*)::int AS accepted, max(seq)::text AS last FROM ins)
       SELECT (SELECT status FROM run) AS status, accepted, last, (SELECT count(*) FROM beat) AS beats,
              CASE WHEN accepted > 0 THEN pg_notify($7, json_build_object('topic', $6::text)::text) END AS notified
       FROM summary`,
      [runId, keys, steps, values, times, metricsTopic(runId), BUS_CHANNEL],
    );
    if (res.status === null) throw new OuroError("NOT_FOUND", `run ${runId} not found`);
    if (res.status !== "running") throw new OuroError("CONFLICT", `run ${runId} is ${res.status}; it no longer accepts data`);
    let cursor = res.last;
    if (res.accepted === 0) cursor = (await sql<{ last: string | null }>(tx, "SELECT max(seq)::text AS last FROM metric_points WHERE run_id = $1", [runId]))[0].last;
    return { accepted: res.accepted, duplicates: points.length - res.accepted, cursor: cursor ?? "0" };
  });
}

export function metricsFeed(db: Db, runId: string): Feed<MetricPoint> {
  return {
    topic: metricsTopic(runId),
    fetchAfter: async (cursor, limit) => {
      const rows = await sql<{ seq: string; key: string; step: string; value: number; recorded_at: Date }>(
        db,
        `SELECT seq::text, key, step::text, value, recorded_at FROM metric_points
         WHERE run_id = $1 AND seq > $2 ORDER BY metric_points.seq LIMIT $3`,
        [runId, cursor.toString(), limit],
      );
      return rows.map((r) => ({ seq: BigInt(r.seq), key: r.key, step: Number(r.step), value: r.value, timestamp: r.recorded_at }));
    },
    cursorOf: (p) => p.seq,
  };
}

export interface SeriesPoint {
  step: number;
  value: number;
  min: number;
  max: number;
  timestamp: Date;
}

export interface Series {
  key: string;
  /** Points stored for the key. */
  total: number;
  /** Highest step stored: where a resumed client continues from. */
  lastStep: number;
  downsampled: boolean;
  points: SeriesPoint[];
}

/**
 * Series for a chart. A series longer than `buckets` comes back as `buckets` points, each the
 * mean of an equal step range with its min and max, so a spike is never averaged away.
 */
export async function series(db: Db, runId: string, keys: string[] | null, buckets: number): Promise<Series[]> {
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 10_000) throw badInput("buckets must be from 1 to 10000");
  const stats = await sql<{ key: string; n: number; first_step: string; last_step: string }>(
    db,
    `SELECT key, count(*)::int AS n, min(step)::text AS first_step, max(step)::text AS last_step FROM metric_points WHERE run_id = $1 AND ($2::text[] IS NULL OR key = ANY($2))
     GROUP BY key ORDER BY key LIMIT 200`,
    [runId, keys],
  );
  const small = stats.filter((s) => s.n <= buckets).map((s) => s.key);
  const large = stats.filter((s) => s.n > buckets);
  type Row = { key: string; step: string; value: number; min: number; max: number; ts: Date };
  const rows: Row[] = [];
  if (small.length) {
    rows.push(
      ...(await sql<Row>(
        db,
        `SELECT key, step::text, value, value AS min, value AS max, recorded_at AS ts FROM metric_points
         WHERE run_id = $1 AND key = ANY($2) ORDER BY metric_points.key, metric_points.step`,
        [runId, small],
      )),
    );
  }
  if (large.length) {
    rows.push(
      ...(await sql<Row>(
        db,
        // Each key's step range comes from the counts above, as values. As an aggregate
        // subquery joined back to the points, it ran once per point whenever the table's
        // statistics predated the run (a new run_id is estimated at one row, so the planner
        // put the points outside a nested loop): 25,000 points hit the 60 s statement timeout.
        // Points logged since the counts outside their range are left for the next read, so
        // the answer stays within `buckets` (a point logged meanwhile inside it is counted).
        `SELECT p.key, min(p.step)::text AS step, avg(p.value) AS value, min(p.value) AS min, max(p.value) AS max, max(p.recorded_at) AS ts
         FROM metric_points p JOIN unnest($2::text[], $3::bigint[], $4::bigint[]) AS r(key, lo, hi) ON r.key = p.key
         WHERE p.run_id = $1 AND p.step BETWEEN r.lo AND r.hi
         GROUP BY p.key, width_bucket(p.step, r.lo, r.hi + 1, $5)
         ORDER BY p.key, min(p.step)`,
        [runId, large.map((s) => s.key), large.map((s) => s.first_step), large.map((s) => s.last_step), buckets],
      )),
    );
  }
  const byKey = new Map<string, SeriesPoint[]>();
  for (const r of rows) {
    const list = byKey.get(r.key) ?? [];
    list.push({ step: Number(r.step), value: r.value, min: r.min, max: r.max, timestamp: r.ts });
    byKey.set(r.key, list);
  }
  return stats.map((s) => ({ key: s.key, total: s.n, lastStep: Number(s.last_step), downsampled: s.n > buckets, points: byKey.get(s.key) ?? [] }));
}
