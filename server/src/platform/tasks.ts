import type { Db } from "./db";
import type { Logger } from "./logger";

/** What a job handler gets: its input, a way to report, and a signal that says stop. */
export interface TaskContext<P = Record<string, unknown>> {
  jobId: string;
  projectId: string;
  /** 1 on the first try. Handlers must be idempotent: a crashed try is run again. */
  attempt: number;
  payload: P;
  /** Aborted when the job is cancelled. (A draining worker lets running jobs finish.) */
  signal: AbortSignal;
  db: Db;
  log: Logger;
  /** Progress 0..1 with an optional log line; cheap to call often (writes are throttled). */
  progress(fraction: number, message?: string): Promise<void>;
  note(message: string, level?: "info" | "warn" | "error"): Promise<void>;
}

export type TaskHandler<P = Record<string, unknown>> = (ctx: TaskContext<P>) => Promise<Record<string, unknown> | void>;

/** Each domain contributes handlers by job kind, e.g. `runs.export`. */
export type TaskHandlers = Record<string, TaskHandler<never>>;

export class JobCancelledError extends Error {
  constructor() {
    super("job cancelled");
    this.name = "JobCancelledError";
  }
}

export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw new JobCancelledError();
}
