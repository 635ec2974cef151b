import type { Viewer } from "../../platform/auth";
import type { Db, Tx } from "../../platform/db";
import { badInput, OuroError } from "../../platform/errors";
import { recordAudit } from "../audit/audit.service";
import { enqueueJob } from "../jobs/job.service";
import { requireRole, requireRowAccess } from "../projects/project.service";
import { DatasetVersionEntity } from "../datasets/dataset-version.entity";
import type { FittedRecipe, RecipeStep } from "./engine";
import { parseSteps } from "./engine/steps";
import { RecipeEntity } from "./recipe.entity";

const NAME = /^[\w .:-]{1,100}$/;

export async function accessRecipe(db: Db, viewer: Viewer, id: string, role: "viewer" | "editor" = "viewer"): Promise<RecipeEntity> {
  return requireRowAccess(db, viewer, await db.getRepository(RecipeEntity).findOneBy({ id }), "recipe", id, role);
}

/** The ids of the dataset versions the recipe's join steps read (reference data). */
export function joinedVersionIds(steps: RecipeStep[]): string[] {
  return [...new Set(steps.flatMap((s) => (s.op === "join" ? [s.with] : [])))];
}

/** Dataset versions that join steps read, checked to belong to the recipe's project. */
export async function referencedVersions(db: Db, projectId: string, steps: RecipeStep[]): Promise<DatasetVersionEntity[]> {
  const ids = joinedVersionIds(steps);
  const found: DatasetVersionEntity[] = [];
  for (const id of ids) {
    const v = /^[0-9a-f-]{36}$/i.test(id) ? await db.getRepository(DatasetVersionEntity).findOneBy({ id, projectId }) : null;
    if (!v) throw badInput(`join step: dataset version ${id} not found in this project`);
    found.push(v);
  }
  return found;
}

export async function createRecipe(db: Db, viewer: Viewer, projectId: string, name: string, stepsJson: unknown, requestId?: string): Promise<RecipeEntity> {
  await requireRole(db, viewer, projectId, "editor");
  if (!NAME.test(name)) throw badInput("recipe name: 1 to 100 letters, digits, spaces or . : - _", { field: "name" });
  const steps = parseSteps(stepsJson);
  await referencedVersions(db, projectId, steps);
  return db.transaction(async (tx) => {
    const recipe = await tx.getRepository(RecipeEntity).save({ projectId, name, steps, fitted: null, fittedOnVersionId: null, autoApplySourceId: null, autoApplyOutputId: null });
    await recordAudit(tx, { projectId, actorId: viewer.userId, action: "recipe.create", targetType: "recipe", targetId: recipe.id, requestId });
    return recipe;
  });
}

export async function saveFitted(db: Db, recipeId: string, versionId: string, fitted: FittedRecipe): Promise<void> {
  await db.query("UPDATE recipes SET fitted = $2, fitted_on_version_id = $3 WHERE id = $1", [recipeId, fitted, versionId]);
}

export function fittedOf(recipe: RecipeEntity): FittedRecipe {
  if (!recipe.fitted) throw new OuroError("CONFLICT", `recipe ${recipe.id} is not fitted yet: run fitRecipe first`);
  return recipe.fitted as unknown as FittedRecipe;
}

/** New versions of a recipe's followed dataset are applied into its output dataset, in the transaction that creates them. */
export async function onNewVersionForRecipes(tx: Tx, version: DatasetVersionEntity, maxAttempts: number): Promise<void> {
  const recipes = await tx.getRepository(RecipeEntity).findBy({ autoApplySourceId: version.datasetId });
  for (const recipe of recipes) {
    // A version the recipe itself produced must not trigger it again.
    if (!recipe.fitted || !recipe.autoApplyOutputId || recipe.autoApplyOutputId === version.datasetId || version.recipeId === recipe.id) continue;
    const { job } = await enqueueJob(tx, {
      projectId: recipe.projectId,
      kind: "recipes.apply",
      payload: { recipeId: recipe.id, versionId: version.id, outputDatasetId: recipe.autoApplyOutputId },
      idempotencyKey: `apply:${recipe.id}:${version.id}`,
      maxAttempts,
    });
    await recordAudit(tx, { projectId: recipe.projectId, actorId: null, action: "recipe.autoApply", targetType: "recipe", targetId: recipe.id, data: { jobId: job.id, versionId: version.id } });
  }
}
