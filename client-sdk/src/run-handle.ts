import { unrefTimer } from "./backoff";
import { isRetryable } from "./errors";
import { FinishRunDocument, HeartbeatRunDocument, LogMetricsDocument, LogParamsDocument, type MetricInput, type RunEndStatus, type RunFieldsFragment } from "./generated/graphql";
import type { HttpTransport } from "./http";

/** The server's limit per logMetrics call. */
export const MAX_POINTS_PER_REQUEST = 10_000;
const METRIC_KEY = /^[\w .:\-/]{1,250}$/;

export interface RunHandleOptions {
  /** Send when this many points are waiting. Default 1,000; at most 10,000. */
  batchSize?: number;
  /** Send waiting points at least this often (ms). Default 2,000. */
  flushIntervalMs?: number;
  /** Tries after the first for one batch, on network and transient errors. Default 8. */
  maxRetries?: number;
  /** Tell the server the run is alive this often (ms) even when nothing is logged; 0 disables. Default 60,000. */
  heartbeatIntervalMs?: number;
  /** Errors of background sends (size- or timer-triggered). Failed points stay queued when retrying can help. */
  onError?: (error: unknown) => void;
}

export interface RunStats {
  /** Points given to logMetric. */
  logged: number;
  /** Points the server stored. */
  accepted: number;
  /** Points the server already had for their (key, step): resent after a lost answer, or logged twice. */
  duplicates: number;
  /** logMetrics calls that succeeded. */
  batches: number;
  /** Sends repeated after a network or transient error. */
  retries: number;
  /** Points given up on after a refusal retrying cannot fix (e.g. the run was finished elsewhere). */
  dropped: number;
  /** Points waiting to be sent. */
  pending: number;
}

export type ParamValue = string | number | boolean;

/**
 * A running run. `logMetric` only queues a point; points go out in batches (by size, by
 * timer, on `flush()`, on `finish()`, and in Node when the process is about to exit). One
 * batch is in flight at a time, so points arrive in the order they were logged. A batch
 * whose answer is lost is sent again: the server keeps the first value of each
 * (run, key, step), so resending is harmless.
 */
export class RunHandle {
  readonly id: string;
  private queue: MetricInput[] = [];
  private readonly nextStep = new Map<string, number>();
  private chain: Promise<void> = Promise.resolve();
  private sending = false;
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeatTimer: ReturnType<typeof setInterval> | undefined;
  private refusal: unknown = null;
  private finished = false;
  private finishing = false;
  private readonly batchSize: number;
  private readonly counters = { logged: 0, accepted: 0, duplicates: 0, batches: 0, retries: 0, dropped: 0 };

  constructor(
    /** The run as it was when started. */
    readonly run: RunFieldsFragment,
    private readonly http: HttpTransport,
    private readonly options: RunHandleOptions = {},
    private readonly onClosed: (handle: RunHandle) => void = () => undefined,
  ) {
    this.id = run.id;
    this.batchSize = Math.min(MAX_POINTS_PER_REQUEST, Math.max(1, options.batchSize ?? 1_000));
    const heartbeat = options.heartbeatIntervalMs ?? 60_000;
    if (heartbeat > 0) {
      this.heartbeatTimer = setInterval(() => {
        if (!this.sending) this.http.request(HeartbeatRunDocument, { runId: this.id }, { retry: true }).catch((err: unknown) => this.options.onError?.(err));
      }, heartbeat);
      unrefTimer(this.heartbeatTimer);
    }
  }

  get stats(): RunStats {
    return { ...this.counters, pending: this.queue.length };
  }

  /** True once `finish()` has been called. */
  get isFinished(): boolean {
    return this.finished;
  }

  /** Params are write-once: logging the same value again is fine, a different one is a CONFLICT. */
  async logParams(params: Record<string, ParamValue>): Promise<{ key: string; value: string }[]> {
    const list = Object.entries(params).map(([key, value]) => ({ key, value: String(value) }));
    const result = await this.http.request(LogParamsDocument, { runId: this.id, params: list }, { retry: true });
    return result.logParams;
  }

  logParam(key: string, value: ParamValue): Promise<{ key: string; value: string }[]> {
    return this.logParams({ [key]: value });
  }

  /**
   * Queues one point. Without `step`, the key's next step is used (0, 1, 2, … after the
   * highest step logged for that key through this handle). Throws at once on a bad key,
   * value or step, so one bad point cannot sink a whole batch later.
   */
  logMetric(key: string, value: number, step?: number, timestamp: Date = new Date()): void {
    if (this.finished || this.finishing) throw new Error(`run ${this.id} is finished; it accepts no more metrics`);
    if (!METRIC_KEY.test(key) || key.includes("..")) throw new RangeError(`metric key ${JSON.stringify(key)}: 1 to 250 letters, digits, spaces or . : - / _, without '..'`);
    if (typeof value !== "number" || !Number.isFinite(value)) throw new RangeError(`metric ${key}: value must be a finite number, got ${value}`);
    const next = this.nextStep.get(key) ?? 0;
    const s = step ?? next;
    if (!Number.isSafeInteger(s) || s < 0) throw new RangeError(`metric ${key}: step must be a whole number ≥ 0, got ${s}`);
    this.nextStep.set(key, Math.max(next, s + 1));
    this.queue.push({ key, step: s, value, timestamp: timestamp.toISOString() });
    this.counters.logged++;
    if (this.queue.length >= this.batchSize) {
      if (!this.sending) this.flushInBackground();
    } else {
      this.armFlushTimer();
    }
  }

  /** Queues several metrics at one step (each key's next step when omitted). */
  logMetrics(values: Record<string, number>, step?: number): void {
    for (const [key, value] of Object.entries(values)) this.logMetric(key, value, step);
  }

  /**
   * Sends every queued point and resolves when the server has them. Rejects with the error
   * if a batch could not be delivered; points that may still be delivered stay queued.
   */
  flush(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const run = this.chain.then(() => this.drain());
    this.chain = run.catch(() => undefined);
    return run.then(
      () => {
        const refusal = this.refusal; // from a background send since the last flush
        this.refusal = null;
        if (refusal) throw refusal;
      },
      (err: unknown) => {
        if (this.refusal === err) this.refusal = null;
        throw err;
      },
    );
  }

  /**
   * Sends what is queued, then ends the run (`finished` by default). Safe to call again
   * after a failure: finishing twice with the same status is a no-op on the server.
   */
  async finish(status: RunEndStatus = "finished"): Promise<RunFieldsFragment> {
    this.finishing = true; // points logged from now on would arrive after the run ended
    let result;
    try {
      await this.flush();
      result = await this.http.request(FinishRunDocument, { runId: this.id, status }, { retry: true });
    } catch (err) {
      this.finishing = false;
      throw err;
    }
    this.finished = true;
    clearInterval(this.heartbeatTimer);
    this.onClosed(this);
    return result.finishRun;
  }

  /** Used by the exit hook: sends what is queued, reporting failure instead of throwing. */
  async flushQuietly(): Promise<void> {
    try {
      await this.flush();
    } catch (err) {
      this.options.onError?.(err);
    }
  }

  private flushInBackground(): void {
    const run = this.chain.then(() => this.drain());
    this.chain = run.catch((err: unknown) => {
      this.options.onError?.(err);
      if (isRetryable(err)) this.armFlushTimer(); // the points are still queued: try again later
    });
  }

  private armFlushTimer(): void {
    if (this.flushTimer || this.finished) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      this.flushInBackground();
    }, this.options.flushIntervalMs ?? 2_000);
    unrefTimer(this.flushTimer);
  }

  /** Sends the queue in batches until it is empty; one request in flight at a time. */
  private async drain(): Promise<void> {
    this.sending = true;
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, Math.min(this.batchSize, MAX_POINTS_PER_REQUEST));
        try {
          const { logMetrics } = await this.http.request(LogMetricsDocument, { runId: this.id, points: batch }, {
            retry: true,
            maxRetries: this.options.maxRetries ?? 8,
            onRetry: () => this.counters.retries++,
          });
          this.counters.accepted += logMetrics.accepted;
          this.counters.duplicates += logMetrics.duplicates;
          this.counters.batches++;
        } catch (err) {
          if (isRetryable(err)) {
            this.queue.unshift(...batch); // keep them for the next flush
          } else {
            this.counters.dropped += batch.length;
            this.refusal = err; // reported by the next flush() or finish()
          }
          throw err;
        }
      }
    } finally {
      this.sending = false;
    }
  }
}
