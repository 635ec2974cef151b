import path from "node:path";
import type { ArtifactStore } from "../../platform/artifacts";
import type { Config } from "../../platform/config";
import { JobCancelledError } from "../../platform/tasks";
import { runInSubprocess } from "../../platform/subprocess";
import { withTempDir } from "../../platform/tmp";
import type { TaskContext, TaskHandlers } from "../../platform/tasks";
import { DatasetVersionEntity } from "../datasets/dataset-version.entity";
import { versionArtifact } from "../datasets/dataset.service";
import type { Converted } from "../datasets/ingest.work";
import { RecipeEntity } from "../recipes/recipe.entity";
import { fittedOf } from "../recipes/recipe.service";
import { ArtifactEntity } from "../runs/artifact.entity";
import { saveArtifact } from "../runs/artifact.service";
import { appendMetrics } from "../runs/metric.service";
import { endRunAsSystem, recordParamsAsSystem } from "../runs/run.service";
import type { ModelArtifact } from "./model.service";
import type { Evaluation } from "./training/evaluate";
import type { SavedModel } from "./training/serialize";
import type { TrainResult } from "./training/train";
import { parseEpochProgress, type EvaluateTaskInput } from "./training/training.work";
import type { TrainInput } from "./training/spec";

export const TRAIN_MODEL = "models.train";
export const EVALUATE_MODEL = "models.evaluate";

const TRAINING_WORK = path.join(__dirname, "training", "training.work.ts");
const RECIPE_WORK = path.join(__dirname, "..", "recipes", "recipe.work.ts");

export interface TrainPayload {
  runId: string;
  trainVersionId: string;
  validationVersionId: string | null;
  recipeId: string | null;
  /** TrainInput without its files. */
  spec: Omit<TrainInput, "trainFile" | "validation"> & { validationFraction: number };
}

export interface EvaluatePayload {
  runId: string;
  /** The model artifact to score. */
  artifactId: string;
  recipeId: string | null;
  versionId: string;
}

/** Nested params as run params: {model: {layers: [8]}} → {"model.layers": "[8]"}. */
export function flatten(prefix: string, value: unknown, out: Record<string, string>): Record<string, string> {
  if (value !== null && typeof value === "object" && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(prefix ? `${prefix}.${k}` : k, v, out);
  } else if (value !== undefined) out[prefix] = typeof value === "string" ? value : JSON.stringify(value);
  return out;
}

export function modelTasks(store: ArtifactStore, config: Config): TaskHandlers {
  const withTmp = <T>(fn: (dir: string) => Promise<T>) => withTempDir(config.dataDir, "model-", fn);

  /** The version's Parquet, through the recipe when there is one (the same code as serving's batch path). */
  const prepared = async (ctx: TaskContext<unknown>, versionId: string, recipeId: string | null, dir: string, name: string): Promise<string> => {
    const version = await ctx.db.getRepository(DatasetVersionEntity).findOneByOrFail({ id: versionId, projectId: ctx.projectId });
    const file = await store.localPath((await versionArtifact(ctx.db, version)).sha256);
    if (!recipeId) return file;
    const recipe = await ctx.db.getRepository(RecipeEntity).findOneByOrFail({ id: recipeId, projectId: ctx.projectId });
    const out = path.join(dir, `${name}.parquet`);
    await runInSubprocess<unknown, Converted>(RECIPE_WORK, "applyToFile", { file, fitted: fittedOf(recipe), out }, { signal: ctx.signal });
    return out;
  };

  const train = async (ctx: TaskContext<TrainPayload>) => {
    const { runId, spec } = ctx.payload;
    try {
      return await withTmp(async (dir) => {
        await ctx.progress(0.02, "preparing data");
        const trainFile = await prepared(ctx, ctx.payload.trainVersionId, ctx.payload.recipeId, dir, "train");
        const validation = ctx.payload.validationVersionId
          ? { kind: "file" as const, file: await prepared(ctx, ctx.payload.validationVersionId, ctx.payload.recipeId, dir, "validation") }
          : { kind: "split" as const, fraction: spec.validationFraction };
        const { validationFraction: _f, ...rest } = spec;
        // Epochs stream into the run as metric points, in order, while training goes on.
        let logged: Promise<unknown> = Promise.resolve();
        const result = await runInSubprocess<TrainInput, TrainResult>(TRAINING_WORK, "trainTask", { ...rest, trainFile, validation }, {
          signal: ctx.signal,
          onProgress: (fraction, message) => {
            const epoch = parseEpochProgress(message);
            if (!epoch) return;
            const points = Object.entries(epoch.metrics).filter(([, v]) => Number.isFinite(v)).map(([key, value]) => ({ key, value, step: epoch.epoch }));
            logged = logged.then(() => appendMetrics(ctx.db, runId, points)).catch((err) => ctx.log.warn({ err: (err as Error).message }, "epoch metrics not logged"));
            void ctx.progress(0.05 + 0.9 * fraction);
          },
        });
        await logged;
        if (result.stopReason === "cancelled") throw new JobCancelledError();
        const metrics = result.validation?.metrics ?? {};
        await recordParamsAsSystem(ctx.db, runId, {
          ...flatten("", { ...result.params, trainFile: undefined, validation: ctx.payload.validationVersionId ? "dataset version" : result.params.validation }, {}),
          backend: result.backend,
          solver: result.solver,
          trainVersionId: ctx.payload.trainVersionId,
          ...(ctx.payload.recipeId ? { recipeId: ctx.payload.recipeId } : {}),
        });
        await ctx.db.query(`UPDATE runs SET tags = tags || $2::jsonb WHERE id = $1`, [runId, { backend: result.backend, stopReason: result.stopReason }]);
        const finalPoints = Object.entries(metrics).filter(([, v]) => Number.isFinite(v)).map(([key, value]) => ({ key: `final.${key}`, value, step: result.epochsRun }));
        if (finalPoints.length) await appendMetrics(ctx.db, runId, finalPoints);
        // The fitted recipe travels inside the artifact: refitting the recipe later must not
        // change what this model's serving graph computes.
        const fitted = ctx.payload.recipeId ? fittedOf(await ctx.db.getRepository(RecipeEntity).findOneByOrFail({ id: ctx.payload.recipeId, projectId: ctx.projectId })) : null;
        const artifact: ModelArtifact = { format: 1, signature: result.model.signature as ModelArtifact["signature"], recipeId: ctx.payload.recipeId, fitted, metrics, saved: result.model };
        const saved = await saveArtifact(ctx.db, store, { projectId: ctx.projectId, runId, name: "model.json", kind: "model", contentType: "application/json", content: [JSON.stringify(artifact)] });
        if (result.validation) {
          await saveArtifact(ctx.db, store, { projectId: ctx.projectId, runId, name: "validation-evaluation.json", kind: "evaluation", contentType: "application/json", content: [JSON.stringify(result.validation)] });
        }
        await endRunAsSystem(ctx.db, runId, "finished", null);
        return { runId, artifactId: saved.id, backend: result.backend, epochs: result.epochsRun, stopReason: result.stopReason, metrics, timing: result.timing };
      });
    } catch (err) {
      const cancelled = err instanceof JobCancelledError || ctx.signal.aborted;
      await endRunAsSystem(ctx.db, runId, cancelled ? "killed" : "failed", cancelled ? "job cancelled" : (err as Error).message);
      throw err;
    }
  };

  const evaluateModel = async (ctx: TaskContext<EvaluatePayload>) => {
    return withTmp(async (dir) => {
      const { artifactId, runId, versionId, recipeId } = ctx.payload;
      const a = await ctx.db.getRepository(ArtifactEntity).findOneByOrFail({ id: artifactId, projectId: ctx.projectId });
      const chunks: Buffer[] = [];
      for await (const c of await store.open(a.sha256)) chunks.push(c as Buffer);
      const model = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as ModelArtifact).saved as SavedModel;
      const file = await prepared(ctx, versionId, recipeId, dir, "eval");
      await ctx.progress(0.3, "scoring");
      const evaluation = await runInSubprocess<EvaluateTaskInput, Evaluation>(TRAINING_WORK, "evaluateTask", { model, file }, { signal: ctx.signal });
      const stored = await saveArtifact(ctx.db, store, {
        projectId: ctx.projectId,
        runId,
        name: `evaluation-${versionId}.json`,
        kind: "evaluation",
        contentType: "application/json",
        content: [JSON.stringify({ versionId, ...evaluation })],
      });
      return { evaluationArtifactId: stored.id, versionId, metrics: evaluation.metrics };
    });
  };

  return { [TRAIN_MODEL]: train as TaskHandlers[string], [EVALUATE_MODEL]: evaluateModel as TaskHandlers[string] };
}
