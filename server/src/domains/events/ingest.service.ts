import type { Viewer } from "../../platform/auth";
import { sql } from "../../platform/db";
import { OuroError } from "../../platform/errors";
import type { AppServices } from "../../platform/graphql/context";
import { FEATURE_SET_DELETED_TOPIC } from "../features/feature-set.delete";
import { storeEvents, updateWindows } from "./apply";
import type { EventSourceEntity } from "./event.entity";
import { accessEventSource } from "./event-source.service";
import { type GoodEvent, type Rejection, validateEvents } from "./validate";
import { WindowCache } from "./window-cache";

export interface IngestResult {
  accepted: number;
  /** Events whose id was already stored (or came earlier in the batch): not counted again. */
  duplicates: number;
  rejected: Rejection[];
  /** Entities whose online values were recomputed (with the batches committed together). */
  entitiesUpdated: number;
  watermark: Date | null;
}

/** Most new day partitions one batch may create; events on further days are refused. */
const MAX_NEW_PARTITIONS = 32;
/** Events committed together at most: batches waiting for the same feature set are grouped. */
const MAX_GROUP_EVENTS = 20_000;
/** Transactions of one feature set at once per process: they store in parallel, then take turns on the windows. */
const LANES = 3;
export const DAY_MS = 86_400_000;

/** Days since the epoch (UTC): one history partition per day. */
export const dayOf = (ms: number) => Math.floor(ms / DAY_MS);
export const partitionName = (day: number) => `events_p${new Date(day * DAY_MS).toISOString().slice(0, 10).replace(/-/g, "")}`;

/** PostgreSQL's answer to a row whose day partition does not exist (any more). */
const isMissingPartition = (err: unknown) => {
  const e = err as { code?: string; table?: string; message?: string };
  // By the table PostgreSQL names (messages may be in another language), else by the text.
  return e.code === "23514" && (e.table === "events" || /no partition of relation/.test(e.message ?? ""));
};

interface Waiting {
  source: EventSourceEntity;
  good: GoodEvent[];
  resolve(r: { fresh: number; entities: number; watermark: Date | null }): void;
  reject(err: unknown): void;
}

interface Queue {
  waiting: Waiting[];
  running: number;
  /** This process's minute buckets of the feature set. */
  cache: WindowCache;
}

/**
 * Validates, deduplicates and stores batches of events and brings the online values of the
 * entities they touch up to date.
 *
 * Group commit: a process runs at most LANES transactions of one feature set at once; batches
 * that arrive while they are busy wait and are then applied together in one transaction (up
 * to MAX_GROUP_EVENTS), so under load the fixed cost of a transaction and its statements is
 * shared. The lanes store events in parallel and take turns on the window update (apply.ts). A batch is applied
 * entirely or not at all, and its answer comes after the commit: an accepted event is in the
 * online store when the client hears so.
 *
 * Backpressure: at most `maxInFlight` batches per process are being validated, waiting or
 * applied; one more gets RATE_LIMITED (HTTP 429 with Retry-After) before anything is read or
 * written, so memory stays bounded whatever the burst.
 */
export class EventIngestor {
  private inFlight = 0;
  private readonly partitions = new Set<string>();
  private readonly queues = new Map<string, Queue>();

  constructor(private readonly app: AppServices) {
    // A deleted feature set's queue and window cache (up to OURO_EVENTS_CACHE_BUCKETS buckets)
    // would otherwise stay for the life of the process. Batches still in its queue fail as not found.
    app.bus.subscribe(FEATURE_SET_DELETED_TOPIC, (msg) => {
      const featureSetId = (msg.data as { featureSetId?: string } | undefined)?.featureSetId;
      if (featureSetId) this.queues.delete(featureSetId);
    });
  }

  get busy(): number {
    return this.inFlight;
  }

  /** Feature sets this process holds a queue and window cache for. */
  get featureSetsHeld(): string[] {
    return [...this.queues.keys()];
  }

  async ingest(viewer: Viewer, featureSetId: string, events: unknown[]): Promise<IngestResult> {
    const { maxInFlight, maxEventsPerBatch, retryAfterSeconds } = this.app.config.events;
    if (events.length > maxEventsPerBatch) throw new OuroError("PAYLOAD_TOO_LARGE", `at most ${maxEventsPerBatch} events per batch, got ${events.length}`);
    if (this.inFlight >= maxInFlight) {
      throw new OuroError("RATE_LIMITED", `event ingestion is at capacity (${maxInFlight} batches in flight); retry after ${retryAfterSeconds} s`, { retryAfterSeconds });
    }
    this.inFlight++;
    try {
      const { featureSet, source } = await accessEventSource(this.app.db, viewer, featureSetId, "editor");
      const checked = validateEvents(events, source, featureSet.entityKeys, featureSet.timestampColumn!, Date.now());
      const resent = await this.storedLateEvents(featureSetId, checked.rejected);
      const rejected = checked.rejected.filter((r) => !resent.has(r));
      const good = await this.ensurePartitions(checked.good, rejected);
      const applied = good.length ? await this.enqueue(source, good) : { fresh: 0, entities: 0, watermark: source.watermark };
      rejected.sort((a, b) => a.index - b.index);
      return {
        accepted: applied.fresh,
        duplicates: checked.duplicateIndexes.length + resent.size + good.length - applied.fresh,
        rejected,
        entitiesUpdated: applied.entities,
        watermark: applied.watermark,
      };
    } finally {
      this.inFlight--;
    }
  }

  /**
   * Late events whose id is already stored: a resend of an old batch after newer ones were
   * applied (a client retrying, a broker redelivering from an older point). They are
   * duplicates, not bad events — the lateness check runs before the id check only because it
   * needs no database.
   */
  private async storedLateEvents(featureSetId: string, rejected: Rejection[]): Promise<Set<Rejection>> {
    const late = rejected.filter((r) => r.late && r.eventId !== null);
    if (late.length === 0) return new Set();
    const rows = await sql<{ event_id: string }>(this.app.db, "SELECT event_id FROM event_ids WHERE feature_set_id = $1 AND event_id = ANY($2::text[])", [
      featureSetId,
      late.map((r) => r.eventId),
    ]);
    const stored = new Set(rows.map((r) => r.event_id));
    return new Set(late.filter((r) => stored.has(r.eventId!)));
  }

  private enqueue(source: EventSourceEntity, good: GoodEvent[]): Promise<{ fresh: number; entities: number; watermark: Date | null }> {
    let q = this.queues.get(source.featureSetId);
    if (!q) this.queues.set(source.featureSetId, (q = { waiting: [], running: 0, cache: new WindowCache(this.app.config.events.cacheBuckets) }));
    const queue = q;
    return new Promise((resolve, reject) => {
      queue.waiting.push({ source, good, resolve, reject });
      if (queue.running < LANES) void this.drain(queue);
    });
  }

  private async drain(q: Queue): Promise<void> {
    q.running++;
    try {
      while (q.waiting.length) {
        const group: Waiting[] = [];
        let size = 0;
        while (q.waiting.length && (group.length === 0 || size + q.waiting[0].good.length <= MAX_GROUP_EVENTS)) {
          const w = q.waiting.shift()!;
          group.push(w);
          size += w.good.length;
        }
        await this.applyGroup(group, q.cache);
      }
    } finally {
      q.running--;
    }
  }

  private async applyGroup(group: Waiting[], cache: WindowCache): Promise<void> {
    // An id sent by two batches of the group belongs to the first; the second sees a duplicate.
    const owner = new Map<string, Waiting>();
    const all: GoodEvent[] = [];
    for (const w of group) {
      for (const e of w.good) {
        if (owner.has(e.id)) continue;
        owner.set(e.id, w);
        all.push(e);
      }
    }
    const source = group[0].source;
    // Held from before the window update until the cache has recorded the commit (or been dropped).
    const held: { release: (() => void) | null } = { release: null };
    const apply = () =>
      this.app.db.transaction(async (tx) => {
        const freshIds = await storeEvents(tx, source, all);
        if (!freshIds.size) return { freshIds, entities: 0, watermark: source.watermark, generation: null };
        held.release = await cache.lock();
        return { freshIds, ...(await updateWindows(tx, source, all.filter((e) => freshIds.has(e.id)), cache)) };
      });
    try {
      const { freshIds, entities, watermark, generation } = await apply().catch(async (err: unknown) => {
        // The retention pass (retention.ts) dropped a day partition this process had created
        // before: the events were accepted, so the day is created again and the whole
        // transaction (rolled back, nothing written) runs once more.
        if (held.release || !isMissingPartition(err)) throw err;
        for (const d of new Set(all.map((e) => dayOf(e.t)))) await this.createPartition(d, true);
        return apply();
      });
      if (generation !== null) cache.generation = generation;
      for (const w of group) {
        const fresh = w.good.filter((e) => freshIds.has(e.id) && owner.get(e.id) === w).length;
        w.resolve({ fresh, entities, watermark });
      }
    } catch (err) {
      // The cache may hold changes of a transaction that did not commit.
      if (held.release) cache.clear();
      // The feature set was deleted under this batch: let go of its queue (a batch that was
      // checked just before the delete can arrive after the bus said so).
      if (err instanceof OuroError && err.code === "NOT_FOUND") this.queues.delete(source.featureSetId);
      for (const w of group) w.reject(err);
    } finally {
      held.release?.();
    }
  }

  /**
   * Creates the day partitions the batch needs (outside its transaction: an empty partition
   * is harmless, and DDL would otherwise hold a lock on the parent table for the whole batch).
   */
  private async ensurePartitions(good: GoodEvent[], rejected: Rejection[]): Promise<GoodEvent[]> {
    const dayOfEvent = good.map((e) => dayOf(e.t));
    const known = new Map<number, boolean>();
    for (const d of dayOfEvent) if (!known.has(d)) known.set(d, this.partitions.has(partitionName(d)));
    const days = [...known].filter(([, has]) => !has).map(([d]) => d).sort((a, b) => b - a);
    const allowed = new Set(days.slice(0, MAX_NEW_PARTITIONS));
    const kept: GoodEvent[] = [];
    good.forEach((e, i) => {
      const d = dayOfEvent[i];
      if (known.get(d) || allowed.has(d)) kept.push(e);
      else rejected.push({ index: e.index, eventId: e.id, reason: `the batch spans more than ${MAX_NEW_PARTITIONS} new days; send older days in another batch` });
    });
    for (const d of allowed) await this.createPartition(d, false);
    return kept;
  }

  /**
   * Creates a day partition unless it exists. `this.partitions` only saves the statement: a
   * name in it may have been dropped since by the retention pass, which `again` forgets.
   */
  private async createPartition(day: number, again: boolean): Promise<void> {
    const name = partitionName(day);
    if (again) this.partitions.delete(name);
    if (this.partitions.has(name)) return;
    const from = new Date(day * DAY_MS).toISOString();
    const to = new Date((day + 1) * DAY_MS).toISOString();
    try {
      await this.app.db.query(`CREATE TABLE IF NOT EXISTS ${name} PARTITION OF events FOR VALUES FROM ('${from}') TO ('${to}')`);
    } catch (err) {
      // Another process created it at the same moment: fine.
      const code = (err as { code?: string }).code;
      if (code !== "42P07" && code !== "23505") throw err;
    }
    this.partitions.add(name);
  }
}

const ingestors = new WeakMap<AppServices, EventIngestor>();

/** The process's ingestor (shared by the HTTP route and the GraphQL mutation). */
export function ingestorOf(app: AppServices): EventIngestor {
  let i = ingestors.get(app);
  if (!i) ingestors.set(app, (i = new EventIngestor(app)));
  return i;
}

