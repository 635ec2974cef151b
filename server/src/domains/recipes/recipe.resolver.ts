import { GraphQLJSONObject } from "graphql-scalars";
import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import { badInput } from "../../platform/errors";
import { mapPage, paginate } from "../../platform/graphql/connection";
import { type Context, viewerOf } from "../../platform/graphql/context";
import { CursorScalar } from "../../platform/graphql/scalars";
import { recordAudit } from "../audit/audit.service";
import { accessDataset, accessVersion, ensureDataset } from "../datasets/dataset.service";
import { enqueueJob } from "../jobs/job.service";
import { JobType } from "../jobs/job.type";
import { requireRole } from "../projects/project.service";
import { applyRow } from "./engine/apply-row";
import { RecipeEntity } from "./recipe.entity";
import { accessRecipe, createRecipe, fittedOf } from "./recipe.service";
import { APPLY_RECIPE, FIT_RECIPE } from "./recipe.tasks";
import { RecipeConnection, RecipeType } from "./recipe.type";

const asType = (r: RecipeEntity): RecipeType => ({ ...r, steps: r.steps as Record<string, unknown>[] });

@Resolver(() => RecipeType)
export class RecipeResolver {
  @Query(() => RecipeType)
  async recipe(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<RecipeType> {
    return asType(await accessRecipe(ctx.app.db, viewerOf(ctx), id));
  }

  @Query(() => RecipeConnection)
  async recipes(
    @Arg("projectId", () => ID) projectId: string,
    @Ctx() ctx: Context,
    @Arg("first", () => Int, { nullable: true }) first?: number,
    @Arg("after", () => CursorScalar, { nullable: true }) after?: string,
  ) {
    await requireRole(ctx.app.db, viewerOf(ctx), projectId, "viewer");
    const qb = ctx.app.db.getRepository(RecipeEntity).createQueryBuilder("r").where("r.project_id = :projectId", { projectId });
    const page = await paginate(qb, "r", first, after);
    return mapPage(page, asType);
  }

  @Query(() => GraphQLJSONObject, {
    nullable: true,
    description: "Applies a fitted recipe to one row, exactly as serving does. Null when a filter drops the row.",
  })
  async transformRow(@Arg("recipeId", () => ID) recipeId: string, @Arg("row", () => GraphQLJSONObject) row: Record<string, unknown>, @Ctx() ctx: Context) {
    const recipe = await accessRecipe(ctx.app.db, viewerOf(ctx), recipeId);
    return applyRow(row, fittedOf(recipe));
  }

  @Mutation(() => RecipeType, { description: "Steps are validated now; see the recipe engine README for each step's fields." })
  async createRecipe(
    @Arg("projectId", () => ID) projectId: string,
    @Arg("name", () => String) name: string,
    @Arg("steps", () => [GraphQLJSONObject]) steps: Record<string, unknown>[],
    @Ctx() ctx: Context,
  ): Promise<RecipeType> {
    return asType(await createRecipe(ctx.app.db, viewerOf(ctx), projectId, name, steps, ctx.requestId));
  }

  @Mutation(() => JobType, {
    description:
      "Learns the recipe's parameters (means, categories, vocabularies) from a dataset version. With `outputDataset`, the same job also applies the fitted recipe to that version into a new version of `outputDataset` (one pass over the data instead of fitRecipe then applyRecipe).",
  })
  async fitRecipe(
    @Arg("recipeId", () => ID) recipeId: string,
    @Arg("versionId", () => ID) versionId: string,
    @Ctx() ctx: Context,
    @Arg("outputDataset", () => String, { nullable: true }) outputDataset?: string | null,
  ): Promise<JobType> {
    const viewer = viewerOf(ctx);
    const recipe = await accessRecipe(ctx.app.db, viewer, recipeId, "editor");
    const version = await accessVersion(ctx.app.db, viewer, versionId);
    if (version.projectId !== recipe.projectId) throw badInput("the dataset version belongs to another project");
    if (outputDataset == null) return this.enqueue(ctx, recipe.projectId, FIT_RECIPE, { recipeId, versionId }, "recipe.fit", recipeId);
    const dataset = await ctx.app.db.transaction((tx) => ensureDataset(tx, recipe.projectId, outputDataset));
    return this.enqueue(ctx, recipe.projectId, FIT_RECIPE, { recipeId, versionId, outputDatasetId: dataset.id }, "recipe.fit", recipeId);
  }

  @Mutation(() => JobType, { description: "Runs the fitted recipe over a dataset version into a new version of `outputDataset`." })
  async applyRecipe(
    @Arg("recipeId", () => ID) recipeId: string,
    @Arg("versionId", () => ID) versionId: string,
    @Arg("outputDataset", () => String) outputDataset: string,
    @Ctx() ctx: Context,
  ): Promise<JobType> {
    const viewer = viewerOf(ctx);
    const recipe = await accessRecipe(ctx.app.db, viewer, recipeId, "editor");
    fittedOf(recipe);
    const version = await accessVersion(ctx.app.db, viewer, versionId);
    if (version.projectId !== recipe.projectId) throw badInput("the dataset version belongs to another project");
    const dataset = await ctx.app.db.transaction((tx) => ensureDataset(tx, recipe.projectId, outputDataset));
    return this.enqueue(ctx, recipe.projectId, APPLY_RECIPE, { recipeId, versionId, outputDatasetId: dataset.id }, "recipe.apply", recipeId);
  }

  @Mutation(() => RecipeType, { description: "Applies the fitted recipe to every new version of `sourceDatasetId` into `outputDataset`; null source turns it off." })
  async setRecipeAutoApply(
    @Arg("recipeId", () => ID) recipeId: string,
    @Ctx() ctx: Context,
    @Arg("sourceDatasetId", () => ID, { nullable: true }) sourceDatasetId?: string | null,
    @Arg("outputDataset", () => String, { nullable: true }) outputDataset?: string | null,
  ): Promise<RecipeType> {
    const recipe = await accessRecipe(ctx.app.db, viewerOf(ctx), recipeId, "editor");
    if (sourceDatasetId) {
      fittedOf(recipe);
      const source = await accessDataset(ctx.app.db, viewerOf(ctx), sourceDatasetId);
      if (source.projectId !== recipe.projectId) throw badInput("the source dataset belongs to another project");
      if (!outputDataset) throw badInput("give outputDataset");
      const out = await ctx.app.db.transaction((tx) => ensureDataset(tx, recipe.projectId, outputDataset));
      if (out.id === source.id) throw badInput("the output dataset must differ from the source");
      recipe.autoApplySourceId = source.id;
      recipe.autoApplyOutputId = out.id;
    } else {
      recipe.autoApplySourceId = null;
      recipe.autoApplyOutputId = null;
    }
    await ctx.app.db.getRepository(RecipeEntity).update({ id: recipe.id }, { autoApplySourceId: recipe.autoApplySourceId, autoApplyOutputId: recipe.autoApplyOutputId });
    return asType(recipe);
  }

  private async enqueue(ctx: Context, projectId: string, kind: string, payload: Record<string, unknown>, action: string, targetId: string): Promise<JobType> {
    const viewer = viewerOf(ctx);
    const job = await ctx.app.db.transaction(async (tx) => {
      const { job } = await enqueueJob(tx, { projectId, kind, payload, createdById: viewer.userId, maxAttempts: ctx.app.config.worker.maxAttempts });
      await recordAudit(tx, { projectId, actorId: viewer.userId, action, targetType: "recipe", targetId, data: { jobId: job.id, ...payload }, requestId: ctx.requestId });
      return job;
    });
    return Object.assign(new JobType(), job);
  }
}
