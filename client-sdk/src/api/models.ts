import { randomId } from "../backoff";
import {
  CompareModelVersionsDocument,
  EvaluateModelDocument,
  LineageDocument,
  ModelDocument,
  ModelsDocument,
  ModelVersionDocument,
  RegisterModelVersionDocument,
  RunsDocument,
  SetModelAliasDocument,
  StartHyperparameterSearchDocument,
  TrainModelDocument,
  type ModelCardInput,
  type SearchInput,
  type TrainModelInput,
} from "../generated/graphql";
import { JobHandle, type EvaluateResult, type SearchResult, type TrainResult } from "../job-handle";
import type { Job, Lineage, Model, ModelAlias, ModelSummary, ModelVersion, Page, PageArgs } from "../types";
import type { ClientContext } from "./context";
import { JobsApi } from "./jobs";

/**
 * A training job and the run it writes to. The run exists as soon as the job does, so its
 * metrics can be followed live (`ouro.runs.metrics(handle.runId)`) while it trains.
 */
export class TrainingJob extends JobHandle<TrainResult> {
  constructor(
    job: Job,
    jobs: JobsApi,
    /** The training run; null only when a run name given with an idempotency key differs from the first call's. */
    readonly runId: string | null,
    readonly experiment: string,
    readonly runName: string,
  ) {
    super(job, jobs);
  }
}

export class ModelsApi {
  private readonly jobs: JobsApi;
  constructor(private readonly ctx: ClientContext) {
    this.jobs = new JobsApi(ctx);
  }

  /**
   * Trains a model in a new run. Per-epoch metrics stream through `ouro.runs.metrics(runId)`;
   * `await job.result()` gives `{ runId, metrics, epochs, ... }`; `job.cancel()` stops it.
   */
  async train(input: TrainModelInput): Promise<TrainingJob> {
    const experiment = input.experiment ?? "training";
    // The mutation answers with the job only; a name unique to this call finds the run. With an
    // idempotency key the name comes from the key, so a repeated call finds the first call's run.
    const runName =
      input.runName ??
      (input.idempotencyKey ? `train-${input.idempotencyKey.replace(/[^\w .:/-]+/g, "-").slice(0, 190)}` : `train-${new Date().toISOString().replace(/[-:]|\.\d+Z$/g, "")}-${randomId().slice(0, 6)}`);
    const { trainModel } = await this.ctx.http.request(TrainModelDocument, { input: { ...input, experiment, runName } }, { retry: input.idempotencyKey != null });
    const runId = await this.findRun(String(input.projectId), experiment, runName);
    return new TrainingJob(trainModel, this.jobs, runId, experiment, runName);
  }

  /**
   * A hyperparameter search: one child run per trial (grid or random over `search.space`,
   * merged over `input.model`). `result()` names the best trial (`bestRunId`, `bestModel`).
   */
  async search(input: TrainModelInput, search: SearchInput): Promise<JobHandle<SearchResult>> {
    const { startHyperparameterSearch } = await this.ctx.http.request(StartHyperparameterSearchDocument, { input, search }, { retry: input.idempotencyKey != null });
    return new JobHandle<SearchResult>(startHyperparameterSearch, this.jobs);
  }

  /** Scores a model version (or a training run's model) on a dataset version; stored with the run. */
  async evaluate(input: { datasetVersionId: string; modelVersionId?: string; runId?: string }): Promise<JobHandle<EvaluateResult>> {
    const { evaluateModel } = await this.ctx.http.request(EvaluateModelDocument, input);
    return new JobHandle<EvaluateResult>(evaluateModel, this.jobs);
  }

  /** Registers a finished training run's model as the next version of `model` (created on first use). */
  async register(input: { runId: string; model: string; card?: ModelCardInput }): Promise<ModelVersion> {
    const { registerModelVersion } = await this.ctx.http.request(RegisterModelVersionDocument, { input });
    return registerModelVersion;
  }

  /** Points `alias` (e.g. "production") of the version's model at this version; the previous target is kept in history. */
  async setAlias(versionId: string, alias: string): Promise<ModelAlias> {
    const { setModelAlias } = await this.ctx.http.request(SetModelAliasDocument, { versionId, alias }, { retry: true });
    return setModelAlias;
  }

  async list(projectId: string, page: PageArgs = {}): Promise<Page<ModelSummary>> {
    const { models } = await this.ctx.http.request(ModelsDocument, { projectId, first: page.first, after: page.after });
    return models;
  }

  /** A model with its versions and current aliases (`{ aliasHistory: true }` for replaced ones too). */
  async get(id: string, options: { aliasHistory?: boolean } = {}): Promise<Model> {
    const { model } = await this.ctx.http.request(ModelDocument, { id, currentAliases: !options.aliasHistory });
    return model;
  }

  /** A model by name in a project, or null. */
  async findByName(projectId: string, name: string): Promise<Model | null> {
    let after: string | null = null;
    for (;;) {
      const page: Page<ModelSummary> = await this.list(projectId, { first: 100, after });
      const found = page.nodes.find((m) => m.name === name);
      if (found) return this.get(found.id);
      if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) return null;
      after = page.pageInfo.endCursor;
    }
  }

  async version(id: string): Promise<ModelVersion> {
    const { modelVersion } = await this.ctx.http.request(ModelVersionDocument, { id });
    return modelVersion;
  }

  /** The version an alias points at, or null. */
  async versionByAlias(modelId: string, alias: string): Promise<ModelVersion | null> {
    const model = await this.get(modelId);
    const target = model.aliases.find((a) => a.alias === alias)?.modelVersionId;
    return model.versions.find((v) => v.id === target) ?? null;
  }

  /** Several versions side by side (metrics, signature, card). */
  async compare(ids: string[]): Promise<ModelVersion[]> {
    const { compareModelVersions } = await this.ctx.http.request(CompareModelVersionsDocument, { ids });
    return compareModelVersions;
  }

  /** Everything upstream and downstream of a dataset version, recipe, run, model version, feature set, deployment or pipeline run. */
  async lineage(id: string): Promise<Lineage> {
    const { lineage } = await this.ctx.http.request(LineageDocument, { id });
    return lineage;
  }

  private async findRun(projectId: string, experiment: string, name: string): Promise<string | null> {
    const { runs } = await this.ctx.http.request(RunsDocument, { projectId, experiment, first: 50 });
    return runs.nodes.find((r) => r.name === name)?.id ?? null;
  }
}
