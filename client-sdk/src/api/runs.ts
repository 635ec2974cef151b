import { randomId } from "../backoff";
import {
  ExperimentsDocument,
  ExportRunDocument,
  FinishRunDocument,
  RunDocument,
  RunMetricsDocument,
  RunsDocument,
  StartRunDocument,
  type RunEndStatus,
  type RunStatus,
} from "../generated/graphql";
import { liveStream, type LiveOptions, type LiveStream } from "../live";
import { RunHandle, type RunHandleOptions } from "../run-handle";
import type { Experiment, Job, MetricBatch, MetricPoint, Page, PageArgs, Run, RunDetails } from "../types";
import type { ClientContext } from "./context";

export interface StartRunOptions extends RunHandleOptions {
  /** Defaults to a name made from the start time. */
  name?: string;
  tags?: Record<string, string>;
  /** The run this one belongs to (e.g. a search's trial). */
  parentRunId?: string;
}

export interface MetricStreamOptions extends LiveOptions {
  /** Only these keys; all when omitted. */
  keys?: string[];
}

export class RunsApi {
  constructor(private readonly ctx: ClientContext) {}

  /**
   * Starts a run in `experiment` (created on first use) and returns a handle that batches
   * its metrics. Call `finish()` when done; in Node, queued points are also sent when the
   * process is about to exit.
   */
  async start(projectId: string, experiment: string, options: StartRunOptions = {}): Promise<RunHandle> {
    const { name, tags, parentRunId, ...handleOptions } = options;
    const { startRun } = await this.ctx.http.request(StartRunDocument, { input: { projectId, experiment, name, tags, parentRunId } });
    const handle = new RunHandle(startRun, this.ctx.http, { ...this.ctx.runDefaults, ...handleOptions }, (h) => this.ctx.untrackRun(h));
    this.ctx.trackRun(handle);
    return handle;
  }

  /** A run with params, artifacts and its metric series downsampled to at most `buckets` points per key (default 500). */
  async get(runId: string, options: { keys?: string[]; buckets?: number } = {}): Promise<RunDetails> {
    const { run } = await this.ctx.http.request(RunDocument, { id: runId, keys: options.keys, buckets: options.buckets ?? 500 });
    return run;
  }

  /** A project's runs, newest first; `parentRunId` lists a search's trials, `topLevel` only runs without a parent. */
  async list(projectId: string, filter: PageArgs & { experiment?: string; status?: RunStatus; parentRunId?: string; topLevel?: boolean } = {}): Promise<Page<Run>> {
    const { runs } = await this.ctx.http.request(RunsDocument, { projectId, experiment: filter.experiment, status: filter.status, parentRunId: filter.parentRunId, topLevel: filter.topLevel, first: filter.first, after: filter.after });
    return runs;
  }

  async experiments(projectId: string, page: PageArgs = {}): Promise<Page<Experiment>> {
    const { experiments } = await this.ctx.http.request(ExperimentsDocument, { projectId, first: page.first, after: page.after });
    return experiments;
  }

  /** Ends a run by id (use RunHandle.finish for runs you started here, so queued points go first). */
  async finish(runId: string, status: RunEndStatus = "finished"): Promise<Run> {
    const { finishRun } = await this.ctx.http.request(FinishRunDocument, { runId, status }, { retry: true });
    return finishRun;
  }

  /**
   * Starts a job that writes the run's params and points as an NDJSON artifact. Retried
   * safely: the idempotency key (random unless given) makes a resent call return the same job.
   */
  async export(runId: string, options: { idempotencyKey?: string } = {}): Promise<Job> {
    const idempotencyKey = options.idempotencyKey ?? `sdk-export-${randomId()}`;
    const { exportRun } = await this.ctx.http.request(ExportRunDocument, { runId, idempotencyKey }, { retry: true });
    return exportRun;
  }

  /**
   * Every metric point of a run after `after` (from the first when omitted), then live, in
   * the order stored. Reconnects with backoff and resumes from its cursor: no gaps, no
   * duplicates. Never ends by itself: break out of the loop or call `close()`.
   */
  metrics(runId: string, options: MetricStreamOptions = {}): LiveStream<MetricPoint> {
    const { keys, ...live } = options;
    return liveStream(this.ctx.ws, {
      document: RunMetricsDocument,
      variables: (after) => ({ runId, keys, after }),
      extract: ({ runMetrics }) => ({ items: runMetrics.points, cursor: runMetrics.cursor }),
    }, live);
  }

  /** As `metrics`, one item per server batch, each with the cursor after it (to store exactly where you stopped). */
  metricBatches(runId: string, options: MetricStreamOptions = {}): LiveStream<MetricBatch> {
    const { keys, ...live } = options;
    return liveStream(this.ctx.ws, {
      document: RunMetricsDocument,
      variables: (after) => ({ runId, keys, after }),
      extract: ({ runMetrics }) => ({ items: [runMetrics], cursor: runMetrics.cursor }),
    }, live);
  }
}
