import { GraphQLJSON, GraphQLJSONObject } from "graphql-scalars";
import { Arg, Ctx, Field, Float, ID, InputType, Int, Mutation, Resolver, registerEnumType } from "type-graphql";
import { badInput } from "../../platform/errors";
import { type Context, viewerOf } from "../../platform/graphql/context";
import { recordAudit } from "../audit/audit.service";
import { accessVersion } from "../datasets/dataset.service";
import { enqueueJob } from "../jobs/job.service";
import { JobType } from "../jobs/job.type";
import { accessRecipe, fittedOf } from "../recipes/recipe.service";
import { ArtifactEntity } from "../runs/artifact.entity";
import { accessRun, checkRunNames } from "../runs/run.service";
import { accessModelVersion } from "./model.service";
import { EarlyStoppingEnum, HalvingInput } from "./hpo.inputs";
import { checkSearchSettings, enqueueSearch } from "./hpo.service";
import { trialModels } from "./hpo.space";
import { enqueueTraining } from "./train.service";
import { EVALUATE_MODEL, type TrainPayload } from "./train.tasks";
import { modelSpec } from "./training/spec";

export enum TaskEnum {
  binary = "binary",
  multiclass = "multiclass",
  regression = "regression",
}
registerEnumType(TaskEnum, { name: "ModelTask" });

@InputType()
export class TrainModelInput {
  @Field(() => ID) projectId: string;
  @Field(() => String, { defaultValue: "training" }) experiment: string;
  @Field(() => String, { nullable: true }) runName?: string | null;
  @Field(() => ID, { description: "Training data: a dataset version (a training set is one too)." }) datasetVersionId: string;
  @Field(() => ID, { nullable: true, description: "Validation data; else a seeded split of the training data." }) validationVersionId?: string | null;
  @Field(() => Float, { defaultValue: 0.2 }) validationFraction: number;
  @Field(() => String) target: string;
  @Field(() => TaskEnum) task: TaskEnum;
  @Field(() => [String], { nullable: true, description: "Input columns (after the recipe); all but the target if omitted." }) features?: string[] | null;
  @Field(() => ID, { nullable: true, description: "A fitted recipe applied to the data first (and by serving later)." }) recipeId?: string | null;
  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description:
      'Default {kind: "mlp"}. {kind: "mlp", layers, activation, dropout, optimizer, learningRate, batchSize, epochs, earlyStopping: {patience}, classWeights} | {kind: "logistic", ...} | {kind: "linear"}',
  })
  model?: Record<string, unknown> | null;
  @Field(() => Int, { defaultValue: 42 }) seed: number;
  @Field(() => String, { nullable: true }) positiveClass?: string | null;
  @Field(() => String, { nullable: true }) idempotencyKey?: string | null;
}


/** Rows from which an unspecified batch size becomes LARGE_BATCH, with early stopping. */
const LARGE_DATA_ROWS = 20_000;
const LARGE_BATCH = 256;

/**
 * On large data, settings the user left out default to what trains in reasonable time on
 * the WASM backend: a step costs ~2 ms fixed plus a few µs per row, so batch 32 spends 90%
 * of 100k-row epochs on overhead (docs/benchmarks-training.md). Given settings are kept.
 */
export function defaultsForSize(model: Record<string, unknown>, rows: number): Record<string, unknown> {
  if (rows < LARGE_DATA_ROWS || model.kind === "linear") return model;
  return {
    ...model,
    batchSize: model.batchSize ?? LARGE_BATCH,
    earlyStopping: model.earlyStopping ?? (model.epochs === undefined ? { patience: 5, minDelta: 0.001 } : undefined),
  };
}

/** Checks a training request against the data and recipe; the payload its job will run. */
export async function prepareTraining(ctx: Context, input: TrainModelInput): Promise<Omit<TrainPayload, "runId">> {
  const viewer = viewerOf(ctx);
  const version = await accessVersion(ctx.app.db, viewer, input.datasetVersionId, "editor");
  if (version.projectId !== input.projectId) throw badInput("the dataset version belongs to another project");
  if (input.validationVersionId) {
    const v = await accessVersion(ctx.app.db, viewer, input.validationVersionId);
    if (v.projectId !== input.projectId) throw badInput("the validation version belongs to another project");
  }
  checkRunNames(input.experiment, input.runName);
  if (!(input.validationFraction > 0 && input.validationFraction < 1)) throw badInput("validationFraction must be between 0 and 1");
  const model = defaultsForSize(input.model ?? { kind: "mlp" }, Number(version.rowCount));
  const parsedModel = modelSpec.safeParse(model);
  if (!parsedModel.success) throw badInput(`model: ${parsedModel.error.issues.map((i) => `${i.path.join(".") || "spec"}: ${i.message}`).join("; ")}`);
  let columns = version.schema.map((c) => c.name);
  if (input.recipeId) {
    const recipe = await accessRecipe(ctx.app.db, viewer, input.recipeId);
    if (recipe.projectId !== input.projectId) throw badInput("the recipe belongs to another project");
    const fitted = fittedOf(recipe);
    if (!fitted.rowApplicable) throw badInput("the recipe aggregates rows (groupBy/rolling); a model's recipe must work on single rows to be served");
    columns = fitted.outputSchema.map((f) => f.name);
  }
  if (!columns.includes(input.target)) throw badInput(`target column ${input.target} not found; columns: ${columns.join(", ")}`);
  const features = input.features?.length ? input.features : columns.filter((c) => c !== input.target);
  const missing = features.filter((f) => !columns.includes(f));
  if (missing.length) throw badInput(`feature column(s) not found: ${missing.join(", ")}`);

  const payload: Omit<TrainPayload, "runId"> = {
    trainVersionId: version.id,
    validationVersionId: input.validationVersionId ?? null,
    recipeId: input.recipeId ?? null,
    spec: {
      task: input.task,
      model: model as TrainPayload["spec"]["model"],
      seed: input.seed,
      features,
      target: input.target,
      ...(input.positiveClass ? { positiveClass: input.positiveClass } : {}),
      validationFraction: input.validationFraction,
    },
  };
  return payload;
}

@Resolver()
export class TrainResolver {
  @Mutation(() => JobType, { description: "Trains a model in a new run; per-epoch metrics stream through runMetrics; cancelJob stops it." })
  async trainModel(@Arg("input", () => TrainModelInput) input: TrainModelInput, @Ctx() ctx: Context): Promise<JobType> {
    const viewer = viewerOf(ctx);
    const payload = await prepareTraining(ctx, input);
    const job = await ctx.app.db.transaction(async (tx) => {
      const { job, runId } = await enqueueTraining(tx, {
        projectId: input.projectId,
        experiment: input.experiment,
        runName: input.runName ?? null,
        parentRunId: null,
        createdById: viewer.userId,
        payload,
        maxAttempts: ctx.app.config.worker.maxAttempts,
        idempotencyKey: input.idempotencyKey ?? null,
      });
      await recordAudit(tx, { projectId: input.projectId, actorId: viewer.userId, action: "model.train", targetType: "run", targetId: runId, data: { jobId: job.id }, requestId: ctx.requestId });
      return job;
    });
    return Object.assign(new JobType(), job);
  }

  @Mutation(() => JobType, { description: "Scores a model version (or a run's model) on a dataset version; the evaluation is stored with the run." })
  async evaluateModel(
    @Arg("datasetVersionId", () => ID) datasetVersionId: string,
    @Ctx() ctx: Context,
    @Arg("modelVersionId", () => ID, { nullable: true }) modelVersionId?: string | null,
    @Arg("runId", () => ID, { nullable: true }) runId?: string | null,
  ): Promise<JobType> {
    const viewer = viewerOf(ctx);
    let target: { runId: string; artifactId: string; recipeId: string | null; projectId: string };
    if (modelVersionId) {
      const mv = await accessModelVersion(ctx.app.db, viewer, modelVersionId, "editor");
      if (!mv.runId || !mv.artifactId) throw badInput("that model version has no run or artifact to evaluate");
      target = { runId: mv.runId, artifactId: mv.artifactId, recipeId: mv.recipeId, projectId: mv.projectId };
    } else if (runId) {
      const run = await accessRun(ctx.app.db, viewer, runId, "editor");
      const a = await ctx.app.db.getRepository(ArtifactEntity).findOne({ where: { runId, kind: "model" }, order: { createdAt: "DESC" } });
      if (!a) throw badInput(`run ${runId} has no model`);
      const recipe = (await ctx.app.db.query("SELECT value FROM params WHERE run_id = $1 AND key = 'recipeId'", [runId]))[0]?.value ?? null;
      target = { runId, artifactId: a.id, recipeId: recipe, projectId: run.projectId };
    } else throw badInput("give modelVersionId or runId");
    const version = await accessVersion(ctx.app.db, viewer, datasetVersionId);
    if (version.projectId !== target.projectId) throw badInput("the dataset version belongs to another project");
    const job = await ctx.app.db.transaction(async (tx) => {
      const { job } = await enqueueJob(tx, {
        projectId: target.projectId,
        kind: EVALUATE_MODEL,
        payload: { runId: target.runId, artifactId: target.artifactId, recipeId: target.recipeId, versionId: version.id },
        createdById: viewer.userId,
        maxAttempts: ctx.app.config.worker.maxAttempts,
      });
      return job;
    });
    return Object.assign(new JobType(), job);
  }
}

export enum SearchStrategyEnum {
  grid = "grid",
  random = "random",
}
registerEnumType(SearchStrategyEnum, { name: "SearchStrategy" });

@InputType()
export class DimensionInput {
  @Field(() => String, { description: "A model setting, e.g. learningRate, layers, dropout, batchSize, epochs." }) name: string;
  @Field(() => [GraphQLJSON], { nullable: true, description: "Values to try (grid, or random choice)." }) values?: unknown[] | null;
  @Field(() => Float, { nullable: true }) min?: number | null;
  @Field(() => Float, { nullable: true }) max?: number | null;
  @Field(() => Boolean, { nullable: true, description: "Sample the range on a log scale." }) log?: boolean | null;
  @Field(() => Boolean, { nullable: true }) integer?: boolean | null;
}

@InputType()
export class SearchInput {
  @Field(() => SearchStrategyEnum, { defaultValue: SearchStrategyEnum.random }) strategy: SearchStrategyEnum;
  @Field(() => [DimensionInput]) space: DimensionInput[];
  @Field(() => Int, { defaultValue: 10, description: "Random search: how many trials." }) trials: number;
  @Field(() => Int, { defaultValue: 2 }) maxConcurrent: number;
  @Field(() => String, { defaultValue: "val_loss", description: "Per-epoch metric to optimise." }) metric: string;
  @Field(() => Boolean, { defaultValue: false }) maximize: boolean;
  @Field(() => Boolean, { defaultValue: true, description: "Stop trials worse than the median of finished ones at the same epoch." }) medianStopping: boolean;
  @Field(() => EarlyStoppingEnum, { nullable: true, description: "Overrides medianStopping when given." }) earlyStopping?: EarlyStoppingEnum | null;
  @Field(() => HalvingInput, { nullable: true }) halving?: HalvingInput | null;
}

@Resolver()
export class SearchResolver {
  @Mutation(() => JobType, {
    description: "Trains one child run per trial (grid or random over `space`, merged over input.model), in parallel up to maxConcurrent; the job's result names the best trial.",
  })
  async startHyperparameterSearch(@Arg("input", () => TrainModelInput) input: TrainModelInput, @Arg("search", () => SearchInput) search: SearchInput, @Ctx() ctx: Context): Promise<JobType> {
    const viewer = viewerOf(ctx);
    const base = await prepareTraining(ctx, input);
    const models = trialModels(input.model ?? { kind: "mlp" }, search.space, search.strategy, search.trials, input.seed);
    const earlyStopping = search.earlyStopping ?? (search.medianStopping ? "median" : "none");
    const halving = checkSearchSettings({ ...search, earlyStopping }, (base.spec.model as { epochs?: number }).epochs, search.space.map((d) => d.name));
    const { job } = await ctx.app.db.transaction((tx) =>
      enqueueSearch(tx, {
        projectId: input.projectId,
        experiment: input.experiment,
        runName: input.runName ?? null,
        createdById: viewer.userId,
        payload: {
          models,
          base,
          maxConcurrent: search.maxConcurrent,
          metric: search.metric,
          direction: search.maximize ? "maximize" : "minimize",
          earlyStopping,
          halving,
          maxAttempts: ctx.app.config.worker.maxAttempts,
        },
        idempotencyKey: input.idempotencyKey ?? null,
        requestId: ctx.requestId,
      }),
    );
    return Object.assign(new JobType(), job);
  }
}
