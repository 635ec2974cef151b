import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { PoolClient } from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { notFound } from "../../platform/errors";
import { sql, type Tx } from "../../platform/db";
import type { EventSourceEntity } from "./event.entity";
import type { GoodEvent } from "./validate";
import type { EntityWindows, WindowCache } from "./window-cache";
import { addToBucket, type BucketStats, type FieldNeeds, fieldNeeds, minuteOf, windowValues } from "./windows";

const longestWindow = (source: EventSourceEntity) => Math.max(...source.aggregations.map((a) => a.windowMinutes));

/** COPY text format: a backslash, tab, newline or carriage return in a value is escaped. */
const copyText = (s: string) => (/[\\\t\n\r]/.test(s) ? s.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n").replace(/\r/g, "\\r") : s);

/** The pg client under a TypeORM transaction (for COPY, which TypeORM does not speak). */
function clientOf(tx: Tx): PoolClient {
  const client = (tx.queryRunner as unknown as { databaseConnection?: PoolClient } | undefined)?.databaseConnection;
  if (!client) throw new Error("storeEvents needs a transaction");
  return client;
}

/**
 * Stores the events whose ids are new, in the caller's transaction, in parallel with other
 * transactions of the feature set:
 *  1. the ids go into the dedup table, in sorted order so that two transactions sharing ids
 *     cannot deadlock; a transaction inserting an id another one holds waits for it to end,
 *     then stores it only if that one rolled back. Only the duplicates come back;
 *  2. the new events go into the history with COPY, which PostgreSQL parses more cheaply than
 *     rows unpacked from a parameter (and without a statement to plan).
 * Returns the ids that were new.
 */
export async function storeEvents(tx: Tx, source: EventSourceEntity, good: GoodEvent[]): Promise<Set<string>> {
  const fsId = source.featureSetId;
  const sorted = good.map((e) => e.id).sort();
  const [{ duplicates }] = await sql<{ duplicates: string[] }>(
    tx,
    `WITH fresh AS (
       INSERT INTO event_ids (feature_set_id, event_id) SELECT $1, i FROM unnest($2::text[]) AS u(i)
       ON CONFLICT DO NOTHING RETURNING event_id
     )
     SELECT ARRAY(SELECT u.i FROM unnest($2::text[]) AS u(i) WHERE NOT EXISTS (SELECT 1 FROM fresh f WHERE f.event_id = u.i)) AS duplicates`,
    [fsId, sorted],
  );
  const dup = new Set(duplicates);
  const freshIds = new Set<string>();
  let text = "";
  for (const e of good) {
    if (dup.has(e.id)) continue;
    freshIds.add(e.id);
    // Epoch milliseconds as an ISO time (PostgreSQL reads it exactly); the payload is the
    // validated values, whose JSON has no raw control characters, only escapes to double.
    text += `${fsId}\t${copyText(e.id)}\t${copyText(e.key)}\t${new Date(e.t).toISOString()}\t${copyText(JSON.stringify(e.values))}\n`;
  }
  if (text) {
    const stream = clientOf(tx).query(copyFrom("COPY events (feature_set_id, event_id, entity_key, event_time, payload) FROM STDIN"));
    await pipeline(Readable.from([text]), stream);
  }
  return freshIds;
}

/**
 * Brings the windows and online values of the entities of `fresh` (events just stored by this
 * transaction) up to date. The caller holds `cache.lock()`:
 *  1. take the feature set's ingest lock: one window updater at a time per feature set across
 *     every server process, so recomputing an entity's windows never misses a concurrent write;
 *     read the feature set's generation: if it is not the cache's, drop the cache;
 *  2. an entity in the cache gets the new events merged into its buckets; any other is
 *     rebuilt from the history (which already holds this transaction's events), as of its
 *     latest event time (its online_features row, raised to the batch's latest);
 *  3. recompute the window values as of each entity's latest event, and write the online
 *     values, the watermark (the latest event time accepted) and the next generation in one
 *     statement.
 * The cache is updated in place: the caller records the returned generation after the commit,
 * or clears the cache if the transaction fails.
 */
export async function updateWindows(
  tx: Tx,
  source: EventSourceEntity,
  fresh: GoodEvent[],
  cache: WindowCache,
): Promise<{ entities: number; watermark: Date | null; generation: number }> {
  const fsId = source.featureSetId;
  await tx.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`events:${fsId}`]);
  // A separate statement: it must see what was committed before the lock was granted.
  const [current] = await sql<{ generation: number }>(tx, "SELECT generation::float8 AS generation FROM event_sources WHERE feature_set_id = $1", [fsId]);
  // Deleted while this batch waited for the lock: the batch is refused whole (nothing commits).
  if (!current) throw notFound("feature set", fsId);
  const { generation } = current;
  if (cache.generation !== generation) cache.clear();

  const byEntity = new Map<string, GoodEvent[]>();
  const batchMax = new Map<string, number>();
  for (const e of fresh) {
    const list = byEntity.get(e.key);
    if (list) list.push(e);
    else byEntity.set(e.key, [e]);
    if (!(batchMax.get(e.key)! >= e.t)) batchMax.set(e.key, e.t);
  }
  const keys = [...byEntity.keys()].sort();
  const longest = longestWindow(source);
  const needs = fieldNeeds(source.aggregations);
  const misses = keys.filter((k) => !cache.get(k));
  const rebuilt = misses.length ? await rebuildWindows(tx, fsId, misses, batchMax, longest, needs) : new Map<string, EntityWindows>();

  const online: { k: string; t: number; v: Record<string, unknown> }[] = [];
  for (const k of keys) {
    let state = cache.get(k);
    const before = state?.buckets.size ?? 0;
    if (state) {
      if (batchMax.get(k)! > state.tmax) state.tmax = batchMax.get(k)!;
      const start = minuteOf(state.tmax) - (longest - 1);
      for (const e of byEntity.get(k)!) {
        const m = minuteOf(e.t);
        // Older than the longest window before the entity's latest event: it goes to the
        // history only, as it cannot change any online value.
        if (m < start) continue;
        let b = state.buckets.get(m);
        if (!b) state.buckets.set(m, (b = { n: 0, f: {} }));
        addToBucket(b, e, needs);
      }
      // Minutes that slid out of the longest window can never count again.
      for (const m of state.buckets.keys()) if (m < start) state.buckets.delete(m);
    } else {
      state = rebuilt.get(k)!;
    }
    cache.set(k, state, before);
    online.push({ k, t: state.tmax, v: windowValues(state.buckets, source.aggregations, state.tmax) });
  }
  cache.evict();

  let max = 0;
  for (const t of batchMax.values()) if (t > max) max = t;
  const [written] = await sql<{ watermark: Date; generation: number }>(
    tx,
    `WITH online AS (
       INSERT INTO online_features (feature_set_id, entity_key, event_time, "values")
       SELECT $1, k, to_timestamp(t / 1000.0), v FROM jsonb_to_recordset($2::jsonb) AS u(k text, t float8, v jsonb)
       ON CONFLICT (feature_set_id, entity_key) DO UPDATE
         SET event_time = EXCLUDED.event_time, "values" = EXCLUDED."values", updated_at = now()
     )
     UPDATE event_sources SET watermark = GREATEST(watermark, to_timestamp($3 / 1000.0)), generation = generation + 1
     WHERE feature_set_id = $1 RETURNING watermark, generation::float8 AS generation`,
    [fsId, JSON.stringify(online), max],
  );
  return { entities: keys.length, watermark: written.watermark, generation: written.generation };
}

/**
 * The window state of entities the cache does not have, from the history: each entity's latest
 * event time (its online_features row, or this batch's latest if later) and its events within
 * the longest window before it — this transaction's events included.
 */
async function rebuildWindows(
  tx: Tx,
  fsId: string,
  keys: string[],
  batchMax: Map<string, number>,
  longest: number,
  needs: Map<string, FieldNeeds>,
): Promise<Map<string, EntityWindows>> {
  let lowest = Infinity;
  for (const k of keys) lowest = Math.min(lowest, batchMax.get(k)!);
  // No entity's window starts before this (its latest time is at least its batch maximum): a
  // constant bound lets the planner skip older day partitions.
  const floor = new Date((minuteOf(lowest) - (longest - 1)) * 60_000).toISOString();
  const rows = await sql<{ k: string; tmax: number; id: string | null; t: number | null; p: Record<string, unknown> | null }>(
    tx,
    `WITH w AS (
       SELECT u.k, GREATEST(u.batch_max, (extract(epoch FROM o.event_time) * 1000)::float8) AS tmax
       FROM unnest($2::text[], $3::float8[]) AS u(k, batch_max)
       LEFT JOIN online_features o ON o.feature_set_id = $1 AND o.entity_key = u.k
     )
     SELECT w.k, w.tmax, e.event_id AS id, (extract(epoch FROM e.event_time) * 1000)::float8 AS t, e.payload AS p
     FROM w LEFT JOIN events e ON e.feature_set_id = $1 AND e.entity_key = w.k
       AND e.event_time >= to_timestamp((floor(w.tmax / 60000) - ($4::int - 1)) * 60)
       AND e.event_time >= $5::timestamptz`,
    [fsId, keys, keys.map((k) => batchMax.get(k)!), longest, floor],
  );
  const out = new Map<string, EntityWindows>();
  for (const r of rows) {
    let state = out.get(r.k);
    if (!state) out.set(r.k, (state = { tmax: r.tmax, buckets: new Map() }));
    if (r.id === null) continue;
    const m = minuteOf(r.t!);
    let b: BucketStats | undefined = state.buckets.get(m);
    if (!b) state.buckets.set(m, (b = { n: 0, f: {} }));
    addToBucket(b, { id: r.id, t: r.t!, values: r.p! }, needs);
  }
  return out;
}
