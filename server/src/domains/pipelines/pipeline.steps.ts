import type { ArtifactStore } from "../../platform/artifacts";
import type { Viewer } from "../../platform/auth";
import type { Config } from "../../platform/config";
import { sql, type Db, type Tx } from "../../platform/db";
import { badInput } from "../../platform/errors";
import type { Context } from "../../platform/graphql/context";
import { INGEST_DATASET, type IngestSource } from "../datasets/dataset.tasks";
import { accessVersion, ensureDataset } from "../datasets/dataset.service";
import { DeploymentEntity } from "../deployments/deployment.entity";
import { accessDeployment, deployModel, EXPORT_PREDICTIONS, predictionExportPayload, setTraffic, trafficOf } from "../deployments/deployment.service";
import { startRollout } from "../deployments/rollout";
import { accessFeatureSet, BUILD_TRAINING_SET, holdFeatureSets, MATERIALIZE_FEATURE_SET } from "../features/feature-set.service";
import { enqueueJob } from "../jobs/job.service";
import { checkSearchSettings, enqueueSearch } from "../models/hpo.service";
import { trialModels, type Dimension, type Strategy } from "../models/hpo.space";
import { ModelEntity } from "../models/model.entity";
import { readModelArtifact } from "../models/model.resolver";
import { accessModelVersion, registerModelVersion, setModelAlias, versionByAlias } from "../models/model.service";
import { prepareTraining, TaskEnum, TrainModelInput } from "../models/train.resolver";
import { enqueueTraining } from "../models/train.service";
import { EVALUATE_MODEL } from "../models/train.tasks";
import { requireRole } from "../projects/project.service";
import { RecipeEntity } from "../recipes/recipe.entity";
import { accessRecipe, fittedOf } from "../recipes/recipe.service";
import { APPLY_RECIPE, FIT_RECIPE } from "../recipes/recipe.tasks";
import { ArtifactEntity } from "../runs/artifact.entity";
import { accessRun } from "../runs/run.service";
import type { StepKind } from "./pipeline.spec";

/** What a step runs with: the run's identity and project, and a transaction to enqueue in. */
export interface StepEnv {
  db: Db;
  tx: Tx;
  store: ArtifactStore;
  config: Config;
  viewer: Viewer;
  projectId: string;
  pipelineRunId: string;
  stepId: string;
}

/** A step either waits for a job (outputs come from its result) or is done at once. */
export type StepStart = { job: string; partial: Record<string, unknown> } | { outputs: Record<string, unknown> } | { failed: string; outputs?: Record<string, unknown> };

/**
 * Whether an identical earlier step's outputs may stand in for running this one. Not for
 * steps whose effect depends on more than their inputs: ingest (the source may have new
 * content; identical content still yields the same version id, so what follows is cached),
 * gate (the alias it compares with moves), deploy, and register with an alias (the alias
 * may have moved since; registering again is idempotent and re-points it).
 */
export function cacheable(kind: StepKind, inputs: Record<string, unknown>): boolean {
  if (kind === "ingest" || kind === "gate" || kind === "deploy" || kind === "exportPredictions") return false;
  if (kind === "register" && inputs.alias != null) return false;
  return true;
}

const str = (inputs: Record<string, unknown>, name: string, required = true): string | undefined => {
  const v = inputs[name];
  if (v === undefined || v === null) {
    if (required) throw badInput(`params.${name} is required`);
    return undefined;
  }
  if (typeof v !== "string" || v.length > 10_000) throw badInput(`params.${name} must be a string`);
  return v;
};
const num = (inputs: Record<string, unknown>, name: string): number | undefined => {
  const v = inputs[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) throw badInput(`params.${name} must be a number`);
  return v;
};

/** Each step's jobs get a key of their own: a retried pass re-attaches to them instead of enqueueing twice. */
const keyOf = (env: StepEnv) => `pipeline:${env.pipelineRunId}:${env.stepId}`;

async function enqueue(env: StepEnv, kind: string, payload: Record<string, unknown>): Promise<string> {
  const { job } = await enqueueJob(env.tx, { projectId: env.projectId, kind, payload, idempotencyKey: keyOf(env), createdById: env.viewer.userId, maxAttempts: env.config.worker.maxAttempts });
  return job.id;
}

async function versionInProject(env: StepEnv, id: string, role: "viewer" | "editor" = "viewer") {
  const v = await accessVersion(env.db, env.viewer, id, role);
  if (v.projectId !== env.projectId) throw badInput(`dataset version ${id} belongs to another project`);
  return v;
}

/** The training request of a train or search step, checked exactly as trainModel checks it. */
async function trainingPayload(env: StepEnv, i: Record<string, unknown>) {
  const task = str(i, "task")!;
  if (!Object.values(TaskEnum).includes(task as TaskEnum)) throw badInput(`params.task: one of ${Object.values(TaskEnum).join(", ")}`);
  const input = Object.assign(new TrainModelInput(), {
    projectId: env.projectId,
    experiment: str(i, "experiment", false) ?? "pipelines",
    runName: str(i, "runName", false) ?? null,
    datasetVersionId: str(i, "datasetVersionId"),
    validationVersionId: str(i, "validationVersionId", false) ?? null,
    validationFraction: num(i, "validationFraction") ?? 0.2,
    target: str(i, "target"),
    task: task as TaskEnum,
    features: Array.isArray(i.features) ? (i.features as string[]) : null,
    recipeId: str(i, "recipeId", false) ?? null,
    model: (i.model as Record<string, unknown> | undefined) ?? null,
    seed: num(i, "seed") ?? 42,
    positiveClass: str(i, "positiveClass", false) ?? null,
  });
  const ctx = { requestId: `pipeline-run:${env.pipelineRunId}`, viewer: env.viewer, app: { db: env.db } } as unknown as Context;
  return { input, payload: await prepareTraining(ctx, input) };
}

export async function startStep(env: StepEnv, kind: StepKind, i: Record<string, unknown>): Promise<StepStart> {
  const { db, viewer } = env;
  switch (kind) {
    case "ingest": {
      await requireRole(db, viewer, env.projectId, "editor");
      let source: IngestSource;
      if (i.path != null) source = { kind: "path", path: str(i, "path")! };
      else if (i.uploadId != null) source = { kind: "upload", artifactId: str(i, "uploadId")! };
      else {
        const url = str(i, "url")!;
        if (!/^https?:\/\//i.test(url)) throw badInput("params.url must be http or https");
        source = { kind: "url", url };
      }
      const tags = Array.isArray(i.tags) ? (i.tags as unknown[]).map(String).slice(0, 50) : [];
      const dataset = await ensureDataset(env.tx, env.projectId, str(i, "dataset")!);
      return { job: await enqueue(env, INGEST_DATASET, { datasetId: dataset.id, source, format: (i.format as Record<string, unknown> | undefined) ?? null, tags }), partial: { datasetId: dataset.id } };
    }
    case "exportPredictions": {
      const d = await accessDeployment(db, viewer, str(i, "deploymentId")!, "editor");
      if (d.projectId !== env.projectId) throw badInput("the deployment belongs to another project");
      const out = await ensureDataset(env.tx, env.projectId, str(i, "outputDataset")!);
      const payload = await predictionExportPayload(db, d, out.id, { sinceMinutes: num(i, "sinceMinutes"), labelledOnly: i.labelledOnly === undefined ? true : Boolean(i.labelledOnly), labelColumn: str(i, "labelColumn", false) });
      return { job: await enqueue(env, EXPORT_PREDICTIONS, payload as unknown as Record<string, unknown>), partial: { datasetId: out.id } };
    }
    case "fitRecipe": {
      const recipe = await accessRecipe(db, viewer, str(i, "recipeId")!, "editor");
      if (recipe.projectId !== env.projectId) throw badInput("the recipe belongs to another project");
      const version = await versionInProject(env, str(i, "versionId")!);
      return { job: await enqueue(env, FIT_RECIPE, { recipeId: recipe.id, versionId: version.id }), partial: { recipeId: recipe.id, versionId: version.id } };
    }
    case "applyRecipe": {
      const recipe = await accessRecipe(db, viewer, str(i, "recipeId")!, "editor");
      if (recipe.projectId !== env.projectId) throw badInput("the recipe belongs to another project");
      fittedOf(recipe);
      const version = await versionInProject(env, str(i, "versionId")!);
      const out = await ensureDataset(env.tx, env.projectId, str(i, "outputDataset")!);
      return { job: await enqueue(env, APPLY_RECIPE, { recipeId: recipe.id, versionId: version.id, outputDatasetId: out.id }), partial: { datasetId: out.id } };
    }
    case "materialize": {
      const fs = await accessFeatureSet(db, viewer, str(i, "featureSetId")!, "editor");
      if (fs.projectId !== env.projectId) throw badInput("the feature set belongs to another project");
      const sourceVersionId = str(i, "sourceVersionId", false) ?? null;
      if (sourceVersionId && (await versionInProject(env, sourceVersionId)).datasetId !== fs.sourceDatasetId) throw badInput("params.sourceVersionId is not a version of the feature set's source dataset");
      await holdFeatureSets(env.tx, [fs.id]);
      return { job: await enqueue(env, MATERIALIZE_FEATURE_SET, { featureSetId: fs.id, sourceVersionId }), partial: { featureSetId: fs.id } };
    }
    case "buildTrainingSet": {
      const spine = await versionInProject(env, str(i, "spineVersionId")!, "editor");
      const ids = i.featureSetIds;
      if (!Array.isArray(ids) || ids.length < 1 || ids.length > 20) throw badInput("params.featureSetIds: 1 to 20 feature set ids");
      for (const id of ids) if ((await accessFeatureSet(db, viewer, String(id))).projectId !== env.projectId) throw badInput(`feature set ${id} belongs to another project`);
      await holdFeatureSets(env.tx, ids.map(String));
      const out = await ensureDataset(env.tx, env.projectId, str(i, "outputDataset")!);
      return { job: await enqueue(env, BUILD_TRAINING_SET, { spineVersionId: spine.id, spineTime: str(i, "spineTime"), featureSetIds: ids, outputDatasetId: out.id }), partial: { datasetId: out.id } };
    }
    case "train": {
      const { input, payload } = await trainingPayload(env, i);
      const { job, runId } = await enqueueTraining(env.tx, {
        projectId: env.projectId,
        experiment: input.experiment,
        runName: input.runName ?? `${env.stepId}`,
        parentRunId: null,
        createdById: viewer.userId,
        payload,
        maxAttempts: env.config.worker.maxAttempts,
        idempotencyKey: keyOf(env),
        tags: { pipelineRun: env.pipelineRunId },
      });
      return { job: job.id, partial: { runId } };
    }
    case "search": {
      const { input, payload: base } = await trainingPayload(env, i);
      const space = i.space as Dimension[];
      if (!Array.isArray(space)) throw badInput("params.space: a list of dimensions");
      const strategy = (str(i, "strategy", false) ?? "random") as Strategy;
      if (strategy !== "grid" && strategy !== "random") throw badInput("params.strategy: grid or random");
      const models = trialModels(input.model ?? { kind: "mlp" }, space, strategy, num(i, "trials") ?? 10, input.seed);
      const settings = {
        maxConcurrent: num(i, "maxConcurrent") ?? 2,
        metric: str(i, "metric", false) ?? "val_loss",
        maximize: i.maximize === true,
        earlyStopping: (str(i, "earlyStopping", false) ?? "median") as "median" | "halving" | "none",
        halving: (i.halving as { eta?: number; minEpochs?: number } | undefined) ?? null,
      };
      const halving = checkSearchSettings(settings, (base.spec.model as { epochs?: number }).epochs, space.map((d) => d.name));
      const { job, runId } = await enqueueSearch(env.tx, {
        projectId: env.projectId,
        experiment: input.experiment,
        runName: input.runName ?? null,
        createdById: viewer.userId,
        payload: { models, base, maxConcurrent: settings.maxConcurrent, metric: settings.metric, direction: settings.maximize ? "maximize" : "minimize", earlyStopping: settings.earlyStopping, halving, maxAttempts: env.config.worker.maxAttempts },
        idempotencyKey: keyOf(env),
      });
      return { job: job.id, partial: { parentRunId: runId } };
    }
    case "evaluate": {
      const version = await versionInProject(env, str(i, "datasetVersionId")!);
      let target: { runId: string; artifactId: string; recipeId: string | null };
      if (i.modelVersionId != null) {
        const mv = await accessModelVersion(db, viewer, str(i, "modelVersionId")!, "editor");
        if (mv.projectId !== env.projectId || !mv.runId || !mv.artifactId) throw badInput("params.modelVersionId: no model version with a run and artifact in this project");
        target = { runId: mv.runId, artifactId: mv.artifactId, recipeId: mv.recipeId };
      } else {
        const run = await accessRun(db, viewer, str(i, "runId")!, "editor");
        if (run.projectId !== env.projectId) throw badInput("the run belongs to another project");
        const a = await db.getRepository(ArtifactEntity).findOne({ where: { runId: run.id, kind: "model" }, order: { createdAt: "DESC" } });
        if (!a) throw badInput(`run ${run.id} has no model`);
        const [recipe] = await sql<{ value: string }>(db, "SELECT value FROM params WHERE run_id = $1 AND key = 'recipeId'", [run.id]);
        target = { runId: run.id, artifactId: a.id, recipeId: recipe?.value ?? null };
      }
      return { job: await enqueue(env, EVALUATE_MODEL, { ...target, versionId: version.id }), partial: { runId: target.runId } };
    }
    case "register": {
      const runId = str(i, "runId")!;
      const model = str(i, "model")!;
      const run = await accessRun(db, viewer, runId, "editor");
      if (run.projectId !== env.projectId) throw badInput("the run belongs to another project");
      // Registering the same run under the same model again (a retried pass) returns the version it made.
      const [existing] = await sql<{ id: string }>(
        db,
        `SELECT mv.id FROM model_versions mv JOIN models m ON m.id = mv.model_id WHERE m.project_id = $1 AND m.name = $2 AND mv.run_id = $3 ORDER BY mv.version DESC LIMIT 1`,
        [env.projectId, model, runId],
      );
      const version = existing
        ? await accessModelVersion(db, viewer, existing.id)
        : await registerModelVersion(db, viewer, { runId, model, card: (i.card as Record<string, string> | undefined) ?? null }, (a) => readModelArtifact(env.store, a), `pipeline-run:${env.pipelineRunId}`);
      const alias = str(i, "alias", false);
      if (alias) await setModelAlias(db, viewer, version.id, alias, `pipeline-run:${env.pipelineRunId}`);
      return { outputs: { modelVersionId: version.id, modelId: version.modelId, version: version.version, metrics: version.metrics } };
    }
    case "gate":
      return gate(env, i);
    case "deploy":
      return deploy(env, i);
  }
}

/**
 * A gate compares a candidate's metric with a fixed threshold or with what the model version
 * currently holding an alias scored (plus a margin): e.g. f1_macro ≥ production's + 0.01.
 * Not met: the step fails and the run stops there; nothing after it runs.
 */
async function gate(env: StepEnv, i: Record<string, unknown>): Promise<StepStart> {
  const metric = str(i, "metric")!;
  const op = (str(i, "op", false) ?? ">=") as ">=" | ">" | "<=" | "<";
  const margin = num(i, "margin") ?? 0;
  let candidate: Record<string, unknown>;
  if (i.metrics != null) {
    if (typeof i.metrics !== "object") throw badInput("params.metrics must be an object of metric values");
    candidate = i.metrics as Record<string, unknown>;
  } else {
    const mv = await accessModelVersion(env.db, env.viewer, str(i, "modelVersionId")!);
    if (mv.projectId !== env.projectId) throw badInput("the model version belongs to another project");
    candidate = mv.metrics;
  }
  const value = candidate[metric];
  if (typeof value !== "number") return { failed: `gate: the candidate has no metric ${metric} (it has ${Object.keys(candidate).join(", ") || "none"})` };
  let target: number;
  let described: string;
  if (i.threshold != null) {
    target = num(i, "threshold")!;
    described = String(target);
  } else {
    const b = i.baseline as { model: string; alias: string };
    const model = await env.db.getRepository(ModelEntity).findOneBy({ projectId: env.projectId, name: String(b.model) });
    const holder = model ? await versionByAlias(env.db, model.id, String(b.alias)) : null;
    if (!holder) {
      if (i.passWithoutBaseline === false) return { failed: `gate: no version of ${b.model} holds ${b.alias} to compare with` };
      return { outputs: { passed: true, value, baseline: null, reason: `no version of ${b.model} holds ${b.alias} yet` } };
    }
    const base = holder.metrics[metric];
    if (typeof base !== "number") return { failed: `gate: ${b.model} v${holder.version} (${b.alias}) has no metric ${metric}` };
    target = op.startsWith(">") ? base + margin : base - margin;
    described = `${b.model} v${holder.version} (${b.alias}) ${base.toPrecision(4)} ${op.startsWith(">") ? "+" : "-"} ${margin}`;
  }
  const passed = op === ">=" ? value >= target : op === ">" ? value > target : op === "<=" ? value <= target : value < target;
  const outputs = { passed, value, baseline: target };
  return passed ? { outputs } : { failed: `gate not met: ${metric} ${value.toPrecision(4)} is not ${op} ${described}`, outputs };
}

/**
 * Serves the version at endpoint `name`: a new deployment, or all of an existing one's
 * traffic moved to it (serving swaps revisions without failing requests). Deploying the
 * version that already takes all the traffic changes nothing.
 */
async function deploy(env: StepEnv, i: Record<string, unknown>): Promise<StepStart> {
  const modelVersionId = str(i, "modelVersionId")!;
  const name = str(i, "name")!;
  const mv = await accessModelVersion(env.db, env.viewer, modelVersionId, "editor");
  if (mv.projectId !== env.projectId) throw badInput("the model version belongs to another project");
  const existing = await env.db.getRepository(DeploymentEntity).findOneBy({ projectId: env.projectId, name });
  if (!existing) {
    const d = await deployModel(env.db, env.viewer, { projectId: env.projectId, name, modelVersionId }, `pipeline-run:${env.pipelineRunId}`);
    return { outputs: { deploymentId: d.id, revision: d.revision } };
  }
  const routes = trafficOf(existing).routes;
  if (routes.length === 1 && routes[0].modelVersionIds.length === 1 && routes[0].modelVersionIds[0] === modelVersionId) return { outputs: { deploymentId: existing.id, revision: existing.revision } };
  const canary = i.canary;
  if (canary !== undefined && canary !== null) {
    if (typeof canary !== "object" || Array.isArray(canary)) throw badInput("deploy.canary: {weight, minLabels, mode}");
    const c = canary as { weight?: number; minLabels?: number; mode?: string };
    const d = await startRollout(env.db, env.viewer, { deploymentId: existing.id, challengerVersionId: modelVersionId, canaryWeight: c.weight, minLabels: c.minLabels, mode: c.mode, reason: `pipeline run ${env.pipelineRunId}` }, `pipeline-run:${env.pipelineRunId}`);
    return { outputs: { deploymentId: d.id, revision: d.revision, rollout: "running" } };
  }
  const d = await setTraffic(env.db, env.viewer, existing.id, { routes: [{ name: "primary", modelVersionIds: [modelVersionId], weight: 1 }] }, `pipeline-run:${env.pipelineRunId}`);
  return { outputs: { deploymentId: d.id, revision: d.revision } };
}

/** A finished job's result as the step's outputs. */
export function outputsOf(kind: StepKind, partial: Record<string, unknown>, result: Record<string, unknown>): Record<string, unknown> {
  switch (kind) {
    case "ingest":
    case "applyRecipe":
    case "buildTrainingSet":
    case "exportPredictions":
      return { ...partial, versionId: result.versionId, rows: result.rowCount ?? result.rows ?? null };
    case "materialize":
      return { ...partial, versionId: result.offlineVersionId, rows: result.rows ?? null };
    case "fitRecipe":
      return { ...partial };
    case "train":
      return { ...partial, artifactId: result.artifactId, metrics: result.metrics ?? {} };
    case "search":
      return { ...partial, runId: result.bestRunId, bestScore: result.bestScore ?? null, bestModel: result.bestModel ?? null };
    case "evaluate":
      return { ...partial, metrics: result.metrics ?? {}, evaluationArtifactId: result.evaluationArtifactId };
    default:
      return { ...partial, ...result };
  }
}

/** Whether a cached step's outputs still describe the world (a recipe refitted since is not). */
export async function stillValid(db: Db, kind: StepKind, outputs: Record<string, unknown>): Promise<boolean> {
  if (kind === "fitRecipe") {
    const recipe = await db.getRepository(RecipeEntity).findOneBy({ id: String(outputs.recipeId) });
    return !!recipe?.fitted && recipe.fittedOnVersionId === outputs.versionId;
  }
  if (kind === "search" && !outputs.runId) return false;
  return true;
}
