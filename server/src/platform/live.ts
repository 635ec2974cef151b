import type { Bus } from "./bus";

/**
 * Resumable live feeds. Every observable thing is a sequence of rows in PostgreSQL ordered
 * by a cursor that grows in commit order (writers of one topic are serialised). A follower
 * first reads what it missed after its cursor, then takes new rows as the bus announces
 * them; it remembers the last cursor it delivered and drops anything at or below it. So a
 * client that reconnects with its last cursor sees no gap and no duplicate.
 */
export interface Feed<T> {
  /** Bus topic whose messages announce new rows. */
  topic: string;
  /** Rows strictly after `cursor`, ascending, at most `limit`. */
  fetchAfter(cursor: bigint, limit: number): Promise<T[]>;
  cursorOf(item: T): bigint;
}

const PAGE = 5000;
/** Items a slow consumer may have pending before it falls back to reading the database. */
const MAX_PENDING_ITEMS = 50_000;

/**
 * One reader per topic per process, shared by all its followers: a hundred dashboards on
 * one run cost one query per announcement, not a hundred.
 */
class Tail<T> {
  cursor: bigint | null = null;
  readonly listeners = new Set<(items: T[]) => void>();
  private running = false;
  private again = false;

  constructor(readonly feed: Feed<T>) {}

  /**
   * Makes sure the tail reads everything after `from`. A tail ahead of a new follower goes
   * back (followers drop what they already have); it never skips ahead of one.
   */
  start(from: bigint): void {
    if (this.cursor === null || from < this.cursor) this.cursor = from;
    void this.poke();
  }

  async poke(): Promise<void> {
    if (this.cursor === null) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    try {
      do {
        this.again = false;
        for (;;) {
          const from: bigint = this.cursor!;
          const items = await this.feed.fetchAfter(from, PAGE);
          if (items.length === 0) break;
          // If start() moved the cursor back during the read, read again from there.
          if (this.cursor === from) this.cursor = this.feed.cursorOf(items[items.length - 1]);
          else this.again = true;
          for (const l of this.listeners) l(items);
          if (items.length < PAGE || this.again) break;
        }
      } while (this.again);
    } catch {
      // The next announcement or resync retries from the same cursor.
    } finally {
      this.running = false;
    }
  }
}

export class LiveHub {
  private readonly tails = new Map<string, { tail: Tail<unknown>; unsubscribe: () => void }>();

  constructor(private readonly bus: Bus) {
    bus.onResync(() => {
      for (const { tail } of this.tails.values()) void tail.poke();
    });
  }

  /** Follows `feed` from `after`, yielding batches of rows; ends when the consumer returns. */
  follow<T>(feed: Feed<T>, after: bigint, filter: (item: T) => boolean = () => true): AsyncIterableIterator<T[]> {
    return new Follower(this.attach(feed), feed, after, filter);
  }

  private attach<T>(feed: Feed<T>): { tail: Tail<T>; release: () => void } {
    let entry = this.tails.get(feed.topic);
    if (!entry) {
      const tail = new Tail<unknown>(feed as Feed<unknown>);
      const unsubscribe = this.bus.subscribe(feed.topic, () => void tail.poke());
      entry = { tail, unsubscribe };
      this.tails.set(feed.topic, entry);
    }
    const { tail } = entry;
    const release = () => {
      const current = this.tails.get(feed.topic);
      if (current && current.tail.listeners.size === 0) {
        current.unsubscribe();
        this.tails.delete(feed.topic);
      }
    };
    return { tail: tail as Tail<T>, release };
  }

  get topicCount(): number {
    return this.tails.size;
  }
}

class Follower<T> implements AsyncIterableIterator<T[]> {
  private cursor: bigint;
  private pending: T[][] = [];
  private pendingItems = 0;
  private behind = true; // start by catching up from the database
  private done = false;
  private wake: (() => void) | null = null;
  private readonly listener = (items: T[]) => {
    if (this.behind) return; // the catch-up read will see these rows
    this.pending.push(items);
    this.pendingItems += items.length;
    if (this.pendingItems > MAX_PENDING_ITEMS) {
      // Too slow to keep up: forget the buffer and read from the database when it asks again.
      this.fallBehind();
    }
    this.wake?.();
  };

  constructor(
    private readonly attached: { tail: Tail<T>; release: () => void },
    private readonly feed: Feed<T>,
    after: bigint,
    private readonly filter: (item: T) => boolean,
  ) {
    this.cursor = after;
    attached.tail.listeners.add(this.listener);
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<T[]> {
    return this;
  }

  async next(): Promise<IteratorResult<T[]>> {
    while (!this.done) {
      const batch = this.behind ? await this.catchUp() : this.takePending();
      if (batch === null) {
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        continue;
      }
      const fresh = batch.filter((i) => this.feed.cursorOf(i) > this.cursor);
      if (fresh.length === 0) continue;
      this.cursor = this.feed.cursorOf(fresh[fresh.length - 1]);
      const visible = fresh.filter(this.filter);
      if (visible.length > 0 && !this.done) return { value: visible, done: false };
    }
    return { value: undefined, done: true };
  }

  async return(): Promise<IteratorResult<T[]>> {
    if (!this.done) {
      this.done = true;
      this.attached.tail.listeners.delete(this.listener);
      this.attached.release();
      this.wake?.();
    }
    return { value: undefined, done: true };
  }

  async throw(err: unknown): Promise<IteratorResult<T[]>> {
    await this.return();
    throw err;
  }

  /**
   * Reads from the database. Going live is the delicate part: buffering of tail deliveries
   * starts before a last read, so every row is either in that read (committed before it) or
   * delivered by the tail afterwards; the cursor check drops what is in both.
   */
  private async catchUp(): Promise<T[] | null> {
    const page = await this.feed.fetchAfter(this.cursor, PAGE);
    if (page.length > 0) return page;
    this.behind = false;
    this.attached.tail.start(this.cursor);
    const last = await this.feed.fetchAfter(this.cursor, PAGE);
    if (last.length === PAGE) this.fallBehind();
    return last.length ? last : this.takePending();
  }

  private fallBehind(): void {
    this.pending = [];
    this.pendingItems = 0;
    this.behind = true;
  }

  private takePending(): T[] | null {
    const batch = this.pending.shift();
    if (!batch) return null;
    this.pendingItems -= batch.length;
    return batch;
  }
}

/**
 * One item per event instead of batches. Written as a plain iterator, not a generator: a
 * generator suspended in `await` would hold a client's unsubscribe until the next event.
 */
export function oneByOne<T>(batches: AsyncIterableIterator<T[]>): AsyncIterableIterator<T> {
  let buffer: T[] = [];
  const it: AsyncIterableIterator<T> = {
    [Symbol.asyncIterator]: () => it,
    async next() {
      while (buffer.length === 0) {
        const r = await batches.next();
        if (r.done) return { value: undefined, done: true };
        buffer = r.value;
      }
      return { value: buffer.shift() as T, done: false };
    },
    async return() {
      buffer = [];
      await batches.return?.();
      return { value: undefined, done: true };
    },
  };
  return it;
}
