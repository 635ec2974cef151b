import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import { badInput } from "../../platform/errors";
import { paginate } from "../../platform/graphql/connection";
import { type Context, viewerOf } from "../../platform/graphql/context";
import { CursorScalar } from "../../platform/graphql/scalars";
import { recordAudit } from "../audit/audit.service";
import { accessVersion, ensureDataset } from "../datasets/dataset.service";
import { enqueueJob } from "../jobs/job.service";
import { JobType } from "../jobs/job.type";
import { requireRole } from "../projects/project.service";
import { deleteFeatureSet } from "./feature-set.delete";
import { FeatureSetEntity } from "./feature-set.entity";
import { accessFeatureSet, BUILD_TRAINING_SET, createFeatureSet, holdFeatureSets, MATERIALIZE_FEATURE_SET, MAX_ONLINE_KEYS, onlineFeatures } from "./feature-set.service";
import { CreateFeatureSetInput, FeatureSetConnection, FeatureSetType, OnlineFeaturesType } from "./feature-set.type";
import { featureAccessCache, requireOnlineAccess } from "./online-access";

@Resolver(() => FeatureSetType)
export class FeatureSetResolver {
  @Query(() => FeatureSetType)
  async featureSet(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<FeatureSetType> {
    return accessFeatureSet(ctx.app.db, viewerOf(ctx), id);
  }

  @Query(() => FeatureSetConnection)
  async featureSets(
    @Arg("projectId", () => ID) projectId: string,
    @Ctx() ctx: Context,
    @Arg("first", () => Int, { nullable: true }) first?: number,
    @Arg("after", () => CursorScalar, { nullable: true }) after?: string,
  ) {
    await requireRole(ctx.app.db, viewerOf(ctx), projectId, "viewer");
    const qb = ctx.app.db.getRepository(FeatureSetEntity).createQueryBuilder("f").where("f.project_id = :projectId", { projectId });
    return paginate(qb, "f", first, after);
  }

  @Query(() => [OnlineFeaturesType], {
    description:
      'Latest feature values per entity key, from the online store (one row per key asked, in order; at most 1000 keys). With several entity keys, a key is the JSON array of their values in entityKeys order, e.g. ["s1","p1"].',
  })
  async onlineFeatures(@Arg("featureSetId", () => ID) featureSetId: string, @Arg("keys", () => [String]) keys: string[], @Ctx() ctx: Context): Promise<OnlineFeaturesType[]> {
    await requireOnlineAccess(ctx.app, viewerOf(ctx), featureSetId); // cached: see online-access.ts
    if (keys.length > MAX_ONLINE_KEYS) throw badInput(`at most ${MAX_ONLINE_KEYS} keys per request`);
    return onlineFeatures(ctx.app.db, featureSetId, keys);
  }

  @Mutation(() => FeatureSetType)
  async createFeatureSet(@Arg("input", () => CreateFeatureSetInput) input: CreateFeatureSetInput, @Ctx() ctx: Context): Promise<FeatureSetType> {
    return createFeatureSet(ctx.app.db, viewerOf(ctx), input, ctx.requestId);
  }

  @Mutation(() => FeatureSetType, {
    description:
      "Deletes a feature set and its online values, and lets event-history retention drop the days it kept. Refused (CONFLICT, naming them) while a deployment, pipeline, pipeline run, job or attached stream uses it. The offline store's dataset and Parquet versions stay (training sets name them as lineage parents). Returns the feature set as it was.",
  })
  async deleteFeatureSet(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<FeatureSetType> {
    const deleted = await deleteFeatureSet(ctx.app.db, viewerOf(ctx), id, ctx.requestId);
    featureAccessCache(ctx.app).forgetFeatureSet(deleted.id); // at once here; other processes hear it on the bus
    return deleted;
  }

  @Mutation(() => JobType, { description: "Computes the features into the offline store (a new Parquet version) and the latest values per entity into the online store." })
  async materializeFeatureSet(
    @Arg("featureSetId", () => ID) featureSetId: string,
    @Ctx() ctx: Context,
    @Arg("sourceVersionId", () => ID, { nullable: true }) sourceVersionId?: string | null,
  ): Promise<JobType> {
    const fs = await accessFeatureSet(ctx.app.db, viewerOf(ctx), featureSetId, "editor");
    if (!fs.sourceDatasetId) throw badInput(`feature set ${fs.name} has no source dataset (an event feature set is materialized with materializeEventFeatures)`);
    if (sourceVersionId) {
      const v = await accessVersion(ctx.app.db, viewerOf(ctx), sourceVersionId);
      if (v.datasetId !== fs.sourceDatasetId) throw badInput("that version is not of the feature set's source dataset");
    }
    return this.enqueue(ctx, fs.projectId, MATERIALIZE_FEATURE_SET, { featureSetId, sourceVersionId: sourceVersionId ?? null }, fs.id, [fs.id]);
  }

  @Mutation(() => JobType, {
    description:
      "Joins feature sets onto a spine as of each spine row's time (never a value from later) into a new version of `outputDataset`.",
  })
  async buildTrainingSet(
    @Arg("spineVersionId", () => ID) spineVersionId: string,
    @Arg("spineTime", () => String, { description: "The spine's time column." }) spineTime: string,
    @Arg("featureSetIds", () => [ID]) featureSetIds: string[],
    @Arg("outputDataset", () => String) outputDataset: string,
    @Ctx() ctx: Context,
  ): Promise<JobType> {
    const viewer = viewerOf(ctx);
    const spine = await accessVersion(ctx.app.db, viewer, spineVersionId, "editor");
    if (featureSetIds.length < 1 || featureSetIds.length > 20) throw badInput("1 to 20 feature sets");
    for (const id of featureSetIds) {
      const fs = await accessFeatureSet(ctx.app.db, viewer, id);
      if (fs.projectId !== spine.projectId) throw badInput(`feature set ${id} belongs to another project`);
    }
    const out = await ctx.app.db.transaction((tx) => ensureDataset(tx, spine.projectId, outputDataset));
    return this.enqueue(ctx, spine.projectId, BUILD_TRAINING_SET, { spineVersionId, spineTime, featureSetIds, outputDatasetId: out.id }, spineVersionId, featureSetIds);
  }

  /** Queues the job; the feature sets it reads cannot be deleted before it is recorded (holdFeatureSets). */
  private async enqueue(ctx: Context, projectId: string, kind: string, payload: Record<string, unknown>, targetId: string, reads: string[]): Promise<JobType> {
    const viewer = viewerOf(ctx);
    const job = await ctx.app.db.transaction(async (tx) => {
      await holdFeatureSets(tx, reads);
      const { job } = await enqueueJob(tx, { projectId, kind, payload, createdById: viewer.userId, maxAttempts: ctx.app.config.worker.maxAttempts });
      await recordAudit(tx, { projectId, actorId: viewer.userId, action: kind, targetType: "featureSet", targetId, data: { jobId: job.id }, requestId: ctx.requestId });
      return job;
    });
    return Object.assign(new JobType(), job);
  }
}
