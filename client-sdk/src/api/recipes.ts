import {
  ApplyRecipeDocument,
  CreateRecipeDocument,
  FitRecipeDocument,
  RecipeDocument,
  RecipesDocument,
  SetRecipeAutoApplyDocument,
  TransformRowDocument,
} from "../generated/graphql";
import { JobHandle, type FitResult, type VersionResult } from "../job-handle";
import type { Page, PageArgs, Recipe } from "../types";
import type { ClientContext } from "./context";
import { JobsApi } from "./jobs";

/** One recipe step, e.g. `{ op: "fillNull", columns: [...], strategy: "mean" }` (see the recipe engine README). */
export type RecipeStep = Record<string, unknown>;

export class RecipesApi {
  private readonly jobs: JobsApi;
  constructor(private readonly ctx: ClientContext) {
    this.jobs = new JobsApi(ctx);
  }

  /** Creates a recipe; its steps are validated now (a bad step is a BAD_USER_INPUT naming it). */
  async create(projectId: string, name: string, steps: RecipeStep[]): Promise<Recipe> {
    const { createRecipe } = await this.ctx.http.request(CreateRecipeDocument, { projectId, name, steps });
    return createRecipe;
  }

  /**
   * Learns the recipe's parameters from a dataset version. With `outputDataset`, the same job
   * also writes the transformed data as a new version of it (`result().versionId`).
   */
  async fit(recipeId: string, versionId: string, options: { outputDataset?: string } = {}): Promise<JobHandle<FitResult>> {
    const { fitRecipe } = await this.ctx.http.request(FitRecipeDocument, { recipeId, versionId, outputDataset: options.outputDataset });
    return new JobHandle<FitResult>(fitRecipe, this.jobs);
  }

  /** Runs the fitted recipe over a version into a new version of `outputDataset`. */
  async apply(recipeId: string, versionId: string, outputDataset: string): Promise<JobHandle<VersionResult>> {
    const { applyRecipe } = await this.ctx.http.request(ApplyRecipeDocument, { recipeId, versionId, outputDataset });
    return new JobHandle<VersionResult>(applyRecipe, this.jobs);
  }

  /** Applies the fitted recipe to every new version of a dataset; `null` turns it off. */
  async autoApply(recipeId: string, sourceDatasetId: string | null, outputDataset?: string): Promise<Recipe> {
    const { setRecipeAutoApply } = await this.ctx.http.request(SetRecipeAutoApplyDocument, { recipeId, sourceDatasetId, outputDataset });
    return setRecipeAutoApply;
  }

  /** One row through the fitted recipe, exactly as serving does; null when a filter drops it. */
  async transformRow(recipeId: string, row: Record<string, unknown>): Promise<Record<string, unknown> | null> {
    const { transformRow } = await this.ctx.http.request(TransformRowDocument, { recipeId, row });
    return transformRow ?? null;
  }

  async get(id: string): Promise<Recipe> {
    const { recipe } = await this.ctx.http.request(RecipeDocument, { id });
    return recipe;
  }

  async list(projectId: string, page: PageArgs = {}): Promise<Page<Recipe>> {
    const { recipes } = await this.ctx.http.request(RecipesDocument, { projectId, first: page.first, after: page.after });
    return recipes;
  }
}
