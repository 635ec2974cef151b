// Micro-batching: rows from concurrent requests for one model are gathered for at most
// `windowMs` (or until `maxBatch` rows; with 0, for the current event-loop turn) and scored
// in one call. With the tfjs kernel one call of 64 rows costs little more than one of a
// single row, so under concurrency this multiplies throughput; with the compiled dense-js
// kernel (kernel.ts) rows cost the same either way and batching saves only per-call work.
// With no concurrency the window is the price, so it stays small.
import { OuroError } from "../../../platform/errors";

export type ScoreFn = (x: Float32Array, rows: number) => Float32Array;

interface Pending {
  x: Float32Array;
  rows: number;
  resolve(out: Float32Array): void;
  reject(err: unknown): void;
}

export class MicroBatcher {
  private queue: Pending[] = [];
  private queuedRows = 0;
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;

  constructor(
    private readonly score: ScoreFn,
    /** Features per row in, outputs per row out. */
    private readonly width: number,
    private readonly outWidth: number,
    private readonly opts: { windowMs: number; maxBatch: number; maxQueuedRows: number },
  ) {}

  /** Scores `rows` rows; rejects with RATE_LIMITED when the queue is full rather than growing without bound. */
  submit(x: Float32Array, rows: number): Promise<Float32Array> {
    if (this.queuedRows + rows > this.opts.maxQueuedRows) {
      return Promise.reject(new OuroError("RATE_LIMITED", "the endpoint is at capacity; retry shortly"));
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ x, rows, resolve, reject });
      this.queuedRows += rows;
      if (this.queuedRows >= this.opts.maxBatch) this.flush();
      // A window of 0 gathers what arrives in the same event-loop turn: requests parsed
      // together are scored together, and a lone request waits for nothing.
      else this.timer ??= this.opts.windowMs > 0 ? setTimeout(() => this.flush(), this.opts.windowMs) : setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer as NodeJS.Timeout);
      clearImmediate(this.timer as NodeJS.Immediate);
    }
    this.timer = null;
    const batch = this.queue;
    const rows = this.queuedRows;
    this.queue = [];
    this.queuedRows = 0;
    if (batch.length === 0) return;
    try {
      const x = new Float32Array(rows * this.width);
      let at = 0;
      for (const p of batch) {
        x.set(p.x, at * this.width);
        at += p.rows;
      }
      const out = this.score(x, rows);
      at = 0;
      for (const p of batch) {
        p.resolve(out.subarray(at * this.outWidth, (at + p.rows) * this.outWidth));
        at += p.rows;
      }
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }
}
