// The prediction log's writer. A prediction never waits for it and never fails because of
// it: rows go into a bounded in-memory buffer, a background loop writes them with COPY in
// batches, and when the buffer is full (the database is slow or gone) rows are dropped and
// counted rather than letting memory grow. `stats()` and /metrics show both counters.
import { once } from "node:events";
import pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import type { Logger } from "../../../platform/logger";

export interface LoggedPrediction {
  deploymentId: string;
  projectId: string;
  requestId: string;
  modelVersionId: string;
  role: "primary" | "shadow";
  inputs: unknown;
  outputs: unknown;
  latencyMs: number;
  at: Date;
}

export interface PredictionLogStats {
  written: number;
  dropped: number;
  failedBatches: number;
  buffered: number;
  /** Rows in the batch being written right now. */
  inFlight: number;
}

// COPY's text format: backslash, tab, newline and carriage return must be escaped. JSON
// text has no raw control characters, and most rows have no backslash at all: test first.
const SPECIAL = /[\\\t\n\r]/;
const escapeCopy = (s: string) => (SPECIAL.test(s) ? s.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r")) : s);

export function copyLine(p: LoggedPrediction): string {
  return [
    p.deploymentId,
    p.projectId,
    escapeCopy(p.requestId),
    p.modelVersionId,
    p.role,
    escapeCopy(JSON.stringify(p.inputs)),
    escapeCopy(JSON.stringify(p.outputs)),
    String(Math.round(p.latencyMs * 1000) / 1000),
    p.at.toISOString(),
  ].join("\t") + "\n";
}

export class PredictionLog {
  private buffer: LoggedPrediction[] = [];
  private readonly pool: pg.Pool;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private stopped = false;
  private readonly counters = { written: 0, dropped: 0, failedBatches: 0 };

  constructor(
    databaseUrl: string,
    private readonly log: Logger,
    private readonly opts: { maxBuffered: number; batchRows: number; flushMs: number },
  ) {
    this.pool = new pg.Pool({ connectionString: databaseUrl, max: 2, application_name: "ouro-prediction-log" });
    this.pool.on("error", (err) => log.warn({ err: err.message }, "prediction log connection error"));
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Never blocks, never throws: what does not fit is counted as dropped. */
  push(rows: LoggedPrediction[]): void {
    const room = this.opts.maxBuffered - this.buffer.length;
    if (room <= 0 || this.stopped) {
      this.counters.dropped += rows.length;
      return;
    }
    if (rows.length > room) this.counters.dropped += rows.length - room;
    for (let i = 0; i < Math.min(room, rows.length); i++) this.buffer.push(rows[i]);
    if (this.buffer.length >= this.opts.batchRows) this.wake?.();
  }

  stats(): PredictionLogStats {
    return { ...this.counters, buffered: this.buffer.length, inFlight: this.inFlight };
  }

  /** Writes what is buffered (bounded wait), then closes. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await this.pool.end().catch(() => undefined);
  }

  /** Resolves once everything pushed so far is written (or dropped). Tests and the simulator use it. */
  async drain(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.buffer.length > 0 && Date.now() < deadline) {
      this.wake?.();
      await new Promise((r) => setTimeout(r, 20));
    }
    while (this.writing && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }

  private writing = false;
  private inFlight = 0;

  private async run(): Promise<void> {
    let backoff = this.opts.flushMs;
    for (;;) {
      if (this.buffer.length < this.opts.batchRows && !this.stopped) {
        await new Promise<void>((resolve) => {
          this.wake = resolve;
          setTimeout(resolve, backoff).unref();
        });
        this.wake = null;
      }
      if (this.buffer.length === 0) {
        if (this.stopped) return;
        continue;
      }
      const batch = this.buffer.splice(0, this.opts.batchRows * 4);
      this.writing = true;
      this.inFlight = batch.length;
      try {
        await this.write(batch);
        this.counters.written += batch.length;
        backoff = this.opts.flushMs;
      } catch (err) {
        this.counters.failedBatches += 1;
        this.log.warn({ err: (err as Error).message, rows: batch.length }, "prediction log batch not written; will retry");
        // Put the batch back in front if it fits; otherwise it is dropped (and counted).
        const room = this.opts.maxBuffered - this.buffer.length;
        this.counters.dropped += Math.max(0, batch.length - room);
        this.buffer.unshift(...batch.slice(0, Math.max(0, room)));
        backoff = Math.min(backoff * 2, 5000);
        if (this.stopped) {
          this.counters.dropped += this.buffer.length;
          this.buffer = [];
          return;
        }
      } finally {
        this.writing = false;
        this.inFlight = 0;
      }
    }
  }

  private async write(batch: LoggedPrediction[]): Promise<void> {
    const client = await this.pool.connect();
    try {
      const stream = client.query(copyFrom("COPY prediction_log (deployment_id, project_id, request_id, model_version_id, role, inputs, outputs, latency_ms, at) FROM STDIN"));
      const done = new Promise<void>((resolve, reject) => {
        stream.on("finish", resolve);
        stream.on("error", reject);
      });
      let chunk = "";
      for (const p of batch) {
        chunk += copyLine(p);
        if (chunk.length > 1 << 16) {
          if (!stream.write(chunk)) await once(stream, "drain");
          chunk = "";
        }
      }
      stream.end(chunk);
      await done;
      client.release();
    } catch (err) {
      client.release(true); // a connection that failed mid-COPY is not reused
      throw err;
    }
  }
}
