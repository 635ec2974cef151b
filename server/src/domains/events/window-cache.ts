import type { BucketStats } from "./windows";

/** One entity's window state: its latest event time and its minute buckets within the longest window before it. */
export interface EntityWindows {
  /** Latest event time of the entity (ms): the time its online values are taken as of. */
  tmax: number;
  /** Minute index → partial aggregates. */
  buckets: Map<number, BucketStats>;
}

/**
 * A process's in-memory minute buckets of one event feature set (a write-through cache: the
 * event history is the truth, and an entity missing here is rebuilt from it).
 *
 * Valid for one `generation` of the feature set's window state (event_sources.generation,
 * bumped by every transaction that updates the windows, under the feature set's ingest lock):
 * when the generation found under the lock is not the one the cache holds, another process (or
 * a transaction whose outcome is unknown) changed the windows, and the cache is dropped.
 *
 * `lock()` serialises this process's window updates of the feature set from before the ingest
 * lock until after the commit, so the cache is only touched by the transaction holding it and
 * the generation is recorded before the next one looks.
 */
export class WindowCache {
  /** The generation the cached buckets are exact for; null: nothing known. */
  generation: number | null = null;
  private readonly entities = new Map<string, EntityWindows>();
  private buckets = 0;
  private tail: Promise<void> = Promise.resolve();

  /** `maxBuckets`: kept at most (OURO_EVENTS_CACHE_BUCKETS); the least recently updated entities go first. */
  constructor(private readonly maxBuckets: number) {}

  async lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((r) => (release = r));
    const before = this.tail;
    this.tail = before.then(() => next);
    await before;
    return release;
  }

  get size(): number {
    return this.entities.size;
  }

  get(key: string): EntityWindows | undefined {
    return this.entities.get(key);
  }

  /** Stores (or refreshes) an entity as the most recently used. */
  set(key: string, state: EntityWindows, bucketsBefore: number): void {
    this.entities.delete(key);
    this.entities.set(key, state);
    this.buckets += state.buckets.size - bucketsBefore;
  }

  /** Drops the least recently updated entities beyond `maxBuckets`, down to 90 % of it (they are rebuilt from the history when needed). */
  evict(): void {
    if (this.buckets <= this.maxBuckets) return;
    for (const [key, state] of this.entities) {
      if (this.buckets <= this.maxBuckets * 0.9) break;
      this.entities.delete(key);
      this.buckets -= state.buckets.size;
    }
  }

  clear(): void {
    this.entities.clear();
    this.buckets = 0;
    this.generation = null;
  }
}
