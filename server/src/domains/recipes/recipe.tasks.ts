import { createReadStream } from "node:fs";
import path from "node:path";
import type { ArtifactStore } from "../../platform/artifacts";
import type { Config } from "../../platform/config";
import { runInSubprocess } from "../../platform/subprocess";
import { withTempDir } from "../../platform/tmp";
import type { TaskContext, TaskHandlers } from "../../platform/tasks";
import { DatasetVersionEntity } from "../datasets/dataset-version.entity";
import { onVersionCreated, registerVersion, versionArtifact } from "../datasets/dataset.service";
import type { Converted } from "../datasets/ingest.work";
import type { FittedRecipe, RecipeStep } from "./engine";
import { RecipeEntity } from "./recipe.entity";
import { fittedOf, joinedVersionIds, onNewVersionForRecipes, referencedVersions, saveFitted } from "./recipe.service";

export const FIT_RECIPE = "recipes.fit";
export const APPLY_RECIPE = "recipes.apply";
const WORK = path.join(__dirname, "recipe.work.ts");

export interface FitPayload {
  recipeId: string;
  versionId: string;
  /** When set, the same job also applies the fitted recipe to the version into this dataset. */
  outputDatasetId?: string | null;
}

export interface ApplyPayload {
  recipeId: string;
  versionId: string;
  /** Dataset that receives the output as a new version. */
  outputDatasetId: string;
}

export function recipeTasks(store: ArtifactStore, config: Config): TaskHandlers {
  onVersionCreated((tx, version) => onNewVersionForRecipes(tx, version, config.worker.maxAttempts));
  const fileOf = async (ctx: TaskContext<unknown>, versionId: string) => {
    const version = await ctx.db.getRepository(DatasetVersionEntity).findOneByOrFail({ id: versionId, projectId: ctx.projectId });
    return { version, file: await store.localPath((await versionArtifact(ctx.db, version)).sha256) };
  };

  const fit = async (ctx: TaskContext<FitPayload>) => {
    const recipe = await ctx.db.getRepository(RecipeEntity).findOneByOrFail({ id: ctx.payload.recipeId, projectId: ctx.projectId });
    const steps = recipe.steps as RecipeStep[];
    const { version, file } = await fileOf(ctx, ctx.payload.versionId);
    const refs: Record<string, string> = {};
    for (const v of await referencedVersions(ctx.db, ctx.projectId, steps)) refs[v.id] = await store.localPath((await versionArtifact(ctx.db, v)).sha256);
    const outputDatasetId = ctx.payload.outputDatasetId;
    // The version recorded which columns hold nulls when it was stored: fitting need not count them again.
    const nullable = Object.fromEntries(version.schema.map((c) => [c.name, c.nullable]));
    if (!outputDatasetId) {
      await ctx.progress(0.1, `fitting ${steps.length} steps`);
      const fitted = await runInSubprocess<unknown, FittedRecipe>(WORK, "fitOnFile", { file, steps, refs, nullable }, { signal: ctx.signal });
      await saveFitted(ctx.db, recipe.id, ctx.payload.versionId, fitted);
      return { recipeId: recipe.id, columns: fitted.outputSchema.length, rowApplicable: fitted.rowApplicable };
    }
    // Fit and apply in one pass: the output is stored first, then the fitted recipe, so a
    // failure in between leaves the recipe as it was; a retry lands on the same version
    // (same content, same hash).
    return withTempDir(config.dataDir, "fit-apply-", async (tmp) => {
      const out = path.join(tmp, "out.parquet");
      await ctx.progress(0.1, `fitting ${steps.length} steps and applying them to ${version.rowCount} rows`);
      const { fitted, converted } = await runInSubprocess<unknown, { fitted: FittedRecipe; converted: Converted }>(WORK, "fitApplyToFile", { file, steps, refs, out, nullable }, { signal: ctx.signal });
      await ctx.progress(0.8, "storing");
      const created = await storeOutput(ctx, recipe, version, outputDatasetId, out, converted, version.id);
      await saveFitted(ctx.db, recipe.id, ctx.payload.versionId, fitted);
      return { recipeId: recipe.id, columns: fitted.outputSchema.length, rowApplicable: fitted.rowApplicable, ...created };
    });
  };

  /** The applied output as a new version of `outputDatasetId`, with its lineage. */
  const storeOutput = async (ctx: TaskContext<unknown>, recipe: RecipeEntity, version: DatasetVersionEntity, outputDatasetId: string, out: string, converted: Converted, fittedOnVersionId: string | null) => {
    const blob = await store.put(createReadStream(out));
    const { version: created, created: isNew } = await registerVersion(ctx.db, {
      projectId: ctx.projectId,
      datasetId: outputDatasetId,
      sha256: blob.sha256,
      byteSize: blob.byteSize,
      schema: converted.schema,
      rowCount: converted.rowCount,
      source: { kind: "recipe", recipeId: recipe.id, recipe: recipe.name, inputVersionId: version.id },
      tags: [],
      // What the output derives from: its input, the version the recipe was fitted on, and the reference data it joined.
      parentVersionIds: [...new Set([version.id, ...(fittedOnVersionId ? [fittedOnVersionId] : []), ...joinedVersionIds(recipe.steps as RecipeStep[])])],
      recipeId: recipe.id,
    });
    return { versionId: created.id, version: created.version, created: isNew, rowCount: converted.rowCount };
  };

  const apply = async (ctx: TaskContext<ApplyPayload>) => {
    const recipe = await ctx.db.getRepository(RecipeEntity).findOneByOrFail({ id: ctx.payload.recipeId, projectId: ctx.projectId });
    const fitted = fittedOf(recipe);
    const { version, file } = await fileOf(ctx, ctx.payload.versionId);
    return withTempDir(config.dataDir, "apply-", async (tmp) => {
      const out = path.join(tmp, "out.parquet");
      await ctx.progress(0.1, `applying ${recipe.name} to ${version.rowCount} rows`);
      const converted = await runInSubprocess<unknown, Converted>(WORK, "applyToFile", { file, fitted, out }, { signal: ctx.signal });
      await ctx.progress(0.8, "storing");
      return storeOutput(ctx, recipe, version, ctx.payload.outputDatasetId, out, converted, recipe.fittedOnVersionId);
    });
  };

  return { [FIT_RECIPE]: fit as TaskHandlers[string], [APPLY_RECIPE]: apply as TaskHandlers[string] };
}
