import { OuroJobError } from "../errors";
import { CancelJobDocument, JobDocument, JobsDocument, JobUpdatedDocument, type JobStatus } from "../generated/graphql";
import { liveStream, type LiveOptions, type LiveStream } from "../live";
import { TERMINAL_JOB_STATUSES, type Job, type JobWithLogs, type Page, type PageArgs } from "../types";
import type { ClientContext } from "./context";

/** What `cancel` did: cancelled it, or found it already finished (and why it cannot be cancelled). */
export type CancelJobOutcome = { cancelled: true; job: Job } | { cancelled: false; job: Job; message: string };

export interface WaitOptions extends LiveOptions {
  /** Every state the job passes through (progress, status, attempt), including the last. */
  onProgress?: (job: Job) => void;
}

export class JobsApi {
  constructor(private readonly ctx: ClientContext) {}

  /** A job with its last `logs` log lines (default 50). */
  async get(id: string, options: { logs?: number } = {}): Promise<JobWithLogs> {
    const { job } = await this.ctx.http.request(JobDocument, { id, logs: options.logs ?? 50 });
    return job;
  }

  /** A project's jobs, newest first. */
  async list(projectId: string, filter: PageArgs & { kind?: string; status?: JobStatus } = {}): Promise<Page<Job>> {
    const { jobs } = await this.ctx.http.request(JobsDocument, { projectId, kind: filter.kind, status: filter.status, first: filter.first, after: filter.after });
    return jobs;
  }

  /** Stops a queued or running job. A job that has already finished comes back with `cancelled: false`. */
  async cancel(id: string): Promise<CancelJobOutcome> {
    const { cancelJob } = await this.ctx.http.request(CancelJobDocument, { id });
    switch (cancelJob.__typename) {
      case "Job":
        return { cancelled: true, job: jobFields(cancelJob) };
      case "JobNotCancellable":
        return { cancelled: false, job: cancelJob.job, message: cancelJob.message };
    }
  }

  /**
   * The job now, then each change, ending after it has finished (succeeded, failed or
   * cancelled). Reconnects and resumes from its cursor; quick changes may arrive merged.
   */
  watch(id: string, options: LiveOptions = {}): LiveStream<Job> {
    return liveStream(this.ctx.ws, {
      document: JobUpdatedDocument,
      variables: (after) => ({ id, after }),
      extract: ({ jobUpdated }) => ({ items: [jobUpdated], cursor: jobUpdated.cursor, done: TERMINAL_JOB_STATUSES.has(jobUpdated.status) }),
    }, options);
  }

  /**
   * Resolves with the job once it has succeeded; rejects with an OuroJobError (holding the
   * final job) if it failed or was cancelled. Pass `signal` to stop waiting.
   */
  async wait(id: string, options: WaitOptions = {}): Promise<Job> {
    const { onProgress, ...live } = options;
    let last: Job | null = null;
    const stream = this.watch(id, live);
    try {
      for await (const job of stream) {
        last = job;
        onProgress?.(job);
      }
    } finally {
      stream.close();
    }
    options.signal?.throwIfAborted();
    // The stream ends only after a finished job; check with a query in case it ended early.
    if (!last || !TERMINAL_JOB_STATUSES.has(last.status)) {
      const job = jobFields(await this.get(id, { logs: 0 }));
      if (!TERMINAL_JOB_STATUSES.has(job.status)) return this.wait(id, { ...options, after: job.cursor });
      last = job;
      onProgress?.(job);
    }
    if (last.status !== "succeeded") throw new OuroJobError(last);
    return last;
  }
}

/** The JobFields of a larger job object (drops logs and __typename). */
function jobFields(job: Job & { logs?: unknown; __typename?: string }): Job {
  const { logs: _logs, __typename: _typename, ...fields } = job;
  return fields;
}
