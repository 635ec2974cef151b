import {
  CancelPipelineRunDocument,
  CreatePipelineDocument,
  PipelineDocument,
  PipelineRunDocument,
  PipelineRunUpdatedDocument,
  PipelinesDocument,
  RotatePipelineWebhookSecretDocument,
  RunPipelineDocument,
  UpdatePipelineDocument,
  type PipelineQuery,
  type UpdatePipelineInput,
} from "../generated/graphql";
import { OuroJobError } from "../errors";
import { liveStream, type LiveOptions, type LiveStream } from "../live";
import type { Page, PageArgs, Pipeline, PipelineRun } from "../types";
import type { ClientContext } from "./context";

const TERMINAL_RUN = new Set(["succeeded", "failed", "cancelled"]);

/** `{ params?, steps: [{ id, kind, params, after? }] }`; kinds: ingest, fitRecipe, applyRecipe, materialize, buildTrainingSet, train, search, evaluate, register, gate. */
export type PipelineSpec = Record<string, unknown>;

export class PipelinesApi {
  constructor(private readonly ctx: ClientContext) {}

  /** Creates a pipeline; the spec is validated now. The webhook secret is in this answer only. */
  async create(input: { projectId: string; name: string; spec: PipelineSpec; triggers?: Record<string, unknown>[] }): Promise<{ pipeline: Pipeline; webhookSecret: string }> {
    const { createPipeline } = await this.ctx.http.request(CreatePipelineDocument, { input });
    return createPipeline;
  }

  async update(input: UpdatePipelineInput): Promise<Pipeline> {
    const { updatePipeline } = await this.ctx.http.request(UpdatePipelineDocument, { input });
    return updatePipeline;
  }

  /** Starts a run; steps whose inputs did not change reuse earlier outputs unless `force`. */
  async run(pipelineId: string, options: { params?: Record<string, unknown>; force?: boolean; idempotencyKey?: string } = {}): Promise<PipelineRun> {
    const { runPipeline } = await this.ctx.http.request(RunPipelineDocument, { pipelineId, params: options.params, force: options.force ?? false, idempotencyKey: options.idempotencyKey }, { retry: options.idempotencyKey !== undefined });
    return runPipeline;
  }

  async cancelRun(id: string): Promise<PipelineRun> {
    const { cancelPipelineRun } = await this.ctx.http.request(CancelPipelineRunDocument, { id }, { retry: true });
    return cancelPipelineRun;
  }

  async rotateWebhookSecret(id: string): Promise<string> {
    const { rotatePipelineWebhookSecret } = await this.ctx.http.request(RotatePipelineWebhookSecretDocument, { id });
    return rotatePipelineWebhookSecret;
  }

  /** A pipeline with its latest `runs` runs (default 20). */
  async get(id: string, options: { runs?: number } = {}): Promise<PipelineQuery["pipeline"]> {
    const { pipeline } = await this.ctx.http.request(PipelineDocument, { id, runs: options.runs ?? 20 });
    return pipeline;
  }

  async list(projectId: string, page: PageArgs = {}): Promise<Page<Pipeline>> {
    const { pipelines } = await this.ctx.http.request(PipelinesDocument, { projectId, first: page.first, after: page.after });
    return pipelines;
  }

  async getRun(id: string): Promise<PipelineRun> {
    const { pipelineRun } = await this.ctx.http.request(PipelineRunDocument, { id });
    return pipelineRun;
  }

  /** A run now, then on every change (steps included), ending after it finishes. Resumes from its cursor. */
  watchRun(pipelineRunId: string, options: LiveOptions = {}): LiveStream<PipelineRun> {
    return liveStream(this.ctx.ws, {
      document: PipelineRunUpdatedDocument,
      variables: (after) => ({ pipelineRunId, after }),
      extract: ({ pipelineRunUpdated }) => ({ items: [pipelineRunUpdated], cursor: pipelineRunUpdated.cursor, done: TERMINAL_RUN.has(pipelineRunUpdated.status) }),
    }, options);
  }

  /** Every run of a pipeline as it changes (new runs included); never ends by itself. */
  watch(pipelineId: string, options: LiveOptions = {}): LiveStream<PipelineRun> {
    return liveStream(this.ctx.ws, {
      document: PipelineRunUpdatedDocument,
      variables: (after) => ({ pipelineId, after }),
      extract: ({ pipelineRunUpdated }) => ({ items: [pipelineRunUpdated], cursor: pipelineRunUpdated.cursor }),
    }, options);
  }

  /**
   * Resolves with the run once it has succeeded; rejects with an OuroJobError holding the run
   * (its `error` and `steps`) when it failed or was cancelled.
   */
  async waitRun(pipelineRunId: string, options: LiveOptions & { onProgress?: (run: PipelineRun) => void } = {}): Promise<PipelineRun> {
    const { onProgress, ...live } = options;
    let last: PipelineRun | null = null;
    const stream = this.watchRun(pipelineRunId, live);
    try {
      for await (const run of stream) {
        last = run;
        onProgress?.(run);
      }
    } finally {
      stream.close();
    }
    options.signal?.throwIfAborted();
    if (!last || !TERMINAL_RUN.has(last.status)) last = await this.getRun(pipelineRunId);
    if (!TERMINAL_RUN.has(last.status)) return this.waitRun(pipelineRunId, options);
    if (last.status !== "succeeded") throw new OuroJobError(last);
    return last;
  }
}
