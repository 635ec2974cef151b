import type { JobsApi, CancelJobOutcome, WaitOptions } from "./api/jobs";
import type { LiveOptions, LiveStream } from "./live";
import type { Job } from "./types";

/** A job whose `result` has a known shape (each kind of job documents its own). */
export type TypedJob<R> = Omit<Job, "result"> & { result: R | null };

/**
 * A started job: its first state plus `wait()`, `watch()`, `result()` and `cancel()`.
 * Every long operation of the SDK (ingest, profile, fit, train, search, simulate...) returns
 * one. `R` is the shape of the job's result once it has succeeded.
 */
export class JobHandle<R = Record<string, unknown>> {
  /** The job as the server answered when it was created (status `queued` usually). */
  readonly job: TypedJob<R>;

  constructor(job: Job, protected readonly jobs: JobsApi) {
    this.job = job as TypedJob<R>;
  }

  get id(): string {
    return this.job.id;
  }

  get kind(): string {
    return this.job.kind;
  }

  /** Resolves with the finished job once it has succeeded; rejects with an OuroJobError when it failed or was cancelled. */
  async wait(options: WaitOptions = {}): Promise<TypedJob<R>> {
    return (await this.jobs.wait(this.job.id, options)) as TypedJob<R>;
  }

  /** Only the result of the succeeded job (see `wait`). */
  async result(options: WaitOptions = {}): Promise<R> {
    const done = await this.wait(options);
    return (done.result ?? {}) as R;
  }

  /** Every state of the job, live, ending after it finishes (reconnects and resumes on its own). */
  watch(options: LiveOptions = {}): LiveStream<TypedJob<R>> {
    return this.jobs.watch(this.job.id, options) as unknown as LiveStream<TypedJob<R>>;
  }

  cancel(): Promise<CancelJobOutcome> {
    return this.jobs.cancel(this.job.id);
  }
}

/** What ingestDataset, applyRecipe, fitRecipe with an output, buildTrainingSet and batchPredict produce. */
export interface VersionResult {
  versionId: string;
  version?: number;
  /** False when the same content already existed as a version (ingest is idempotent by content). */
  created?: boolean;
  rowCount?: number;
  rows?: number;
  [key: string]: unknown;
}

export interface ProfileResult {
  versionId: string;
  columns: number;
  /** Null when no expectations were given. */
  qualityPassed: boolean | null;
}

export interface FitResult {
  recipeId: string;
  columns: number;
  rowApplicable: boolean;
  /** With `outputDataset`: the transformed version. */
  versionId?: string;
  [key: string]: unknown;
}

export interface MaterializeResult {
  offlineVersionId: string;
  rows: number;
  entities: number;
}

export interface TrainResult {
  runId: string;
  artifactId: string;
  backend: string;
  epochs: number;
  stopReason: string;
  metrics: Record<string, number>;
  timing?: Record<string, number>;
}

export interface EvaluateResult {
  evaluationArtifactId: string;
  versionId: string;
  metrics: Record<string, unknown>;
}

export interface SearchTrial {
  index: number;
  runId: string;
  status: string;
  score: number | null;
  pruned: boolean;
}

export interface SearchResult {
  parentRunId: string;
  bestRunId: string | null;
  bestTrial: number | null;
  bestModel: Record<string, unknown> | null;
  bestScore: number | null;
  trials: SearchTrial[];
  rungs?: number[];
  pruned?: number;
}

/** Counts of what a simulateTraffic job sent. */
export interface SimulateResult {
  sent: number;
  predicted: number;
  refused: number;
  labelled: number;
  seconds: number;
}
