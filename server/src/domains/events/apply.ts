import { sql, type Tx } from "../../platform/db";
import type { EventSourceEntity } from "./event.entity";
import type { GoodEvent } from "./validate";
import { addToBucket, type BucketStats, fieldNeeds, MINUTE_MS, minuteOf, windowValues } from "./windows";

const longestWindow = (source: EventSourceEntity) => Math.max(...source.aggregations.map((a) => a.windowMinutes));

/**
 * Applies validated events (ids unique within `good`) in the caller's transaction:
 *  1. store the events whose ids are new (dedup table and history in one statement; ids in
 *     sorted order, so two transactions sharing ids cannot deadlock). A transaction inserting
 *     an id another one holds waits for it to end, then stores it only if that one rolled back;
 *  2. take the feature set's ingest lock: one window updater at a time per feature set across
 *     every server process, so recomputing an entity's windows never misses a concurrent write;
 *  3. read each touched entity's latest event time (its online_features row) and its minute
 *     buckets within the longest window before it, in one statement;
 *  4. merge the new events into the buckets, recompute the window values as of the entity's
 *     latest event, and write the buckets, the online values and the feature set's watermark
 *     (the latest event time accepted) in one statement.
 * Returns the ids that were new.
 */
export async function applyEvents(tx: Tx, source: EventSourceEntity, good: GoodEvent[]): Promise<{ freshIds: Set<string>; entities: number; watermark: Date | null }> {
  const fsId = source.featureSetId;
  // Times travel as epoch milliseconds and come back as numbers: formatting and parsing
  // timestamps was a good part of the CPU of a batch, on both sides.
  const [stored] = await sql<{ duplicates: string[] }>(
    tx,
    `WITH input AS (
       SELECT event_id, entity_key, to_timestamp(t / 1000.0) AS event_time, payload
       FROM jsonb_to_recordset($2::jsonb) AS u(event_id text, entity_key text, t float8, payload jsonb)
     ), fresh AS (
       INSERT INTO event_ids (feature_set_id, event_id, event_time)
       SELECT $1, event_id, event_time FROM input ORDER BY event_id
       ON CONFLICT DO NOTHING RETURNING event_id
     ), stored AS (
       INSERT INTO events (feature_set_id, event_id, entity_key, event_time, payload)
       SELECT $1, i.event_id, i.entity_key, i.event_time, i.payload FROM input i JOIN fresh USING (event_id)
       RETURNING 1
     )
     SELECT (SELECT count(*) FROM stored) AS n,
            ARRAY(SELECT event_id FROM input WHERE event_id NOT IN (SELECT event_id FROM fresh)) AS duplicates`,
    // One JSON document rather than arrays: PostgreSQL parses it once (an array of jsonb
    // would be parsed as an array literal, then each element again).
    [fsId, JSON.stringify(good.map((e) => ({ event_id: e.id, entity_key: e.key, t: e.t, payload: e.values })))],
  );
  // Usually every id is new: only the duplicates come back.
  const duplicates = new Set(stored.duplicates);
  const freshIds = new Set<string>();
  for (const e of good) if (!duplicates.has(e.id)) freshIds.add(e.id);
  if (!freshIds.size) return { freshIds, entities: 0, watermark: source.watermark };
  // Only now the feature set's lock: storing runs in parallel with other transactions'
  // window updates; what follows sees everything committed before it.
  await tx.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`events:${fsId}`]);

  const byEntity = new Map<string, GoodEvent[]>();
  const batchMax = new Map<string, number>();
  for (const e of good) {
    if (!freshIds.has(e.id)) continue;
    const list = byEntity.get(e.key);
    if (list) list.push(e);
    else byEntity.set(e.key, [e]);
    if (!(batchMax.get(e.key)! >= e.t)) batchMax.set(e.key, e.t);
  }
  const keys = [...byEntity.keys()].sort();
  const longest = longestWindow(source);
  const rows = await sql<{ k: string; tmax: number; minute: number | null; stats: BucketStats | null }>(
    tx,
    `WITH t AS (
       SELECT u.k, GREATEST(u.batch_max, (extract(epoch FROM o.event_time) * 1000)::float8) AS tmax
       FROM unnest($2::text[], $3::float8[]) AS u(k, batch_max)
       LEFT JOIN online_features o ON o.feature_set_id = $1 AND o.entity_key = u.k
     )
     SELECT t.k, t.tmax, (extract(epoch FROM b.minute) / 60)::int AS minute, b.stats
     FROM t LEFT JOIN event_buckets b ON b.feature_set_id = $1 AND b.entity_key = t.k
       AND b.minute >= to_timestamp((floor(t.tmax / 60000) - ($4::int - 1)) * 60)`,
    [fsId, keys, keys.map((k) => batchMax.get(k)!), longest],
  );
  const latest = new Map<string, number>();
  const buckets = new Map<string, Map<number, BucketStats>>(keys.map((k) => [k, new Map()]));
  for (const r of rows) {
    latest.set(r.k, r.tmax);
    if (r.minute !== null && r.stats) buckets.get(r.k)!.set(r.minute, r.stats);
  }

  const needs = fieldNeeds(source.aggregations);
  const changed: { key: string; minute: number; stats: BucketStats }[] = [];
  const online: { key: string; time: number; values: Record<string, unknown> }[] = [];
  for (const k of keys) {
    const mine = buckets.get(k)!;
    const start = minuteOf(latest.get(k)!) - (longest - 1);
    const touched = new Set<number>();
    for (const e of byEntity.get(k)!) {
      const m = minuteOf(e.t);
      // Older than the longest window before the entity's latest event: it goes to the
      // history only, as it cannot change any online value.
      if (m < start) continue;
      let b = mine.get(m);
      if (!b) mine.set(m, (b = { n: 0, f: {} }));
      addToBucket(b, e, needs);
      touched.add(m);
    }
    for (const m of touched) changed.push({ key: k, minute: m, stats: mine.get(m)! });
    online.push({ key: k, time: latest.get(k)!, values: windowValues(mine, source.aggregations, latest.get(k)!) });
  }

  let max = 0;
  for (const t of batchMax.values()) if (t > max) max = t;
  const [written] = await sql<{ watermark: Date }>(
    tx,
    `WITH up AS (
       INSERT INTO event_buckets (feature_set_id, entity_key, minute, stats)
       SELECT $1, k, to_timestamp(m * 60.0), s FROM jsonb_to_recordset($2::jsonb) AS u(k text, m int, s jsonb)
       ON CONFLICT (feature_set_id, entity_key, minute) DO UPDATE SET stats = EXCLUDED.stats
     ), online AS (
       INSERT INTO online_features (feature_set_id, entity_key, event_time, "values")
       SELECT $1, k, to_timestamp(t / 1000.0), v FROM jsonb_to_recordset($3::jsonb) AS u(k text, t float8, v jsonb)
       ON CONFLICT (feature_set_id, entity_key) DO UPDATE
         SET event_time = EXCLUDED.event_time, "values" = EXCLUDED."values", updated_at = now()
     )
     UPDATE event_sources SET watermark = GREATEST(watermark, to_timestamp($4 / 1000.0))
     WHERE feature_set_id = $1 RETURNING watermark`,
    [
      fsId,
      JSON.stringify(changed.map((c) => ({ k: c.key, m: c.minute, s: c.stats }))),
      JSON.stringify(online.map((o) => ({ k: o.key, t: o.time, v: o.values }))),
      max,
    ],
  );
  return { freshIds, entities: keys.length, watermark: written?.watermark ?? null };
}

/**
 * Deletes the buckets that fell out of the longest window before their entity's latest event
 * (they can never count again: events that old are not merged into buckets). Storage only.
 */
export async function sweepBuckets(tx: Tx, source: EventSourceEntity): Promise<number> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`events:${source.featureSetId}`]);
  const deleted = await sql<{ n: number }>(
    tx,
    `WITH d AS (
       DELETE FROM event_buckets b USING online_features o
       WHERE b.feature_set_id = $1 AND o.feature_set_id = $1 AND o.entity_key = b.entity_key
         AND b.minute < to_timestamp((floor(extract(epoch FROM o.event_time) / 60) - ($2::int - 1)) * 60)
       RETURNING 1
     ) SELECT count(*)::int AS n FROM d`,
    [source.featureSetId, longestWindow(source)],
  );
  return deleted[0].n;
}
