import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from "type-graphql";
import { mapPage, paginate } from "../../platform/graphql/connection";
import { type Context, viewerOf } from "../../platform/graphql/context";
import { CursorScalar, streamPosition } from "../../platform/graphql/scalars";
import { OuroError } from "../../platform/errors";
import { oneByOne } from "../../platform/live";
import { recordAudit } from "../audit/audit.service";
import { checkDatasetName, ensureDataset } from "../datasets/dataset.service";
import { enqueueJob } from "../jobs/job.service";
import { JobType } from "../jobs/job.type";
import { requireRole } from "../projects/project.service";
import type { LabelEntity, LabellingItemEntity } from "./labelling-item.entity";
import { LabellingTaskEntity } from "./labelling-task.entity";
import { CreateLabellingTaskInput, LabelValueInput } from "./labelling.inputs";
import { accessTask, agreementOf, answer, createLabellingTask, EXPORT_LABELS, listItems, nextItems, progressFeed, progressOf, type Progress } from "./labelling.service";
import { AgreementType, LabellingItemType, LabellingProgressType, LabellingTaskConnection, LabellingTaskType, LabelType } from "./labelling.type";

const asTask = (t: LabellingTaskEntity): LabellingTaskType =>
  Object.assign(new LabellingTaskType(), {
    ...t,
    labelSchema: { kind: t.labelSchema.kind, classes: "classes" in t.labelSchema ? t.labelSchema.classes : null, min: "min" in t.labelSchema ? t.labelSchema.min : null, max: "max" in t.labelSchema ? t.labelSchema.max : null },
  });

const asItem = (i: LabellingItemEntity & { labels?: LabelEntity[] }): LabellingItemType => ({
  ...i,
  rowIndex: i.rowIndex === null ? null : Number(i.rowIndex),
  labels: i.labels ?? null,
});

const asProgress = (p: Progress): LabellingProgressType => ({ ...p, fraction: p.totalItems ? p.completedItems / p.totalItems : 0, cursor: p.revision });

@ArgsType()
class LabellingProgressArgs {
  @Field(() => ID) taskId: string;
  @Field(() => CursorScalar, { nullable: true }) after?: string;
}

@Resolver(() => LabellingTaskType)
export class LabellingResolver {
  @Query(() => LabellingTaskType)
  async labellingTask(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<LabellingTaskType> {
    return asTask(await accessTask(ctx.app.db, viewerOf(ctx), id));
  }

  @Query(() => LabellingTaskConnection, { description: "A project's labelling tasks, newest first." })
  async labellingTasks(
    @Arg("projectId", () => ID) projectId: string,
    @Ctx() ctx: Context,
    @Arg("first", () => Int, { nullable: true }) first?: number,
    @Arg("after", () => CursorScalar, { nullable: true }) after?: string,
  ) {
    await requireRole(ctx.app.db, viewerOf(ctx), projectId, "viewer");
    const qb = ctx.app.db.getRepository(LabellingTaskEntity).createQueryBuilder("t").where("t.project_id = :projectId", { projectId });
    return mapPage(await paginate(qb, "t", first, after), asTask);
  }

  // A mutation, not a query: handing items out reserves them for the caller.
  @Mutation(() => [LabellingItemType], {
    description: "The caller's next items to label (editors; assignees when the task names them). They stay reserved for the caller for 30 minutes; asking again returns the unanswered ones first.",
  })
  async nextLabellingItems(@Arg("taskId", () => ID) taskId: string, @Ctx() ctx: Context, @Arg("limit", () => Int, { defaultValue: 10 }) limit: number): Promise<LabellingItemType[]> {
    return (await nextItems(ctx.app.db, viewerOf(ctx), taskId, limit)).map(asItem);
  }

  @FieldResolver(() => [LabellingItemType], { description: "The queue in order, with every answer." })
  async items(
    @Root() task: LabellingTaskType,
    @Ctx() ctx: Context,
    @Arg("offset", () => Int, { defaultValue: 0 }) offset: number,
    @Arg("limit", () => Int, { defaultValue: 50 }) limit: number,
  ): Promise<LabellingItemType[]> {
    return (await listItems(ctx.app.db, task.id, offset, limit)).map(asItem);
  }

  @FieldResolver(() => LabellingProgressType)
  async progress(@Root() task: LabellingTaskType, @Ctx() ctx: Context): Promise<LabellingProgressType> {
    const entity = await ctx.app.db.getRepository(LabellingTaskEntity).findOneByOrFail({ id: task.id });
    return asProgress(await progressOf(ctx.app.db, entity));
  }

  @FieldResolver(() => AgreementType)
  async agreement(@Root() task: LabellingTaskType, @Ctx() ctx: Context): Promise<AgreementType> {
    const entity = await ctx.app.db.getRepository(LabellingTaskEntity).findOneByOrFail({ id: task.id });
    return agreementOf(ctx.app.db, entity);
  }

  @Mutation(() => LabellingTaskType, { description: "Creates a labelling task; a job (buildJobId) builds its queue. Editors." })
  async createLabellingTask(@Arg("input", () => CreateLabellingTaskInput) input: CreateLabellingTaskInput, @Ctx() ctx: Context): Promise<LabellingTaskType> {
    const { task } = await createLabellingTask(ctx.app.db, viewerOf(ctx), input, ctx.app.config.worker.maxAttempts, ctx.requestId);
    return asTask(task);
  }

  @Mutation(() => LabelType, { description: "The caller's label for an item, checked against the task's label schema; answering again replaces it." })
  async submitLabel(@Arg("itemId", () => ID) itemId: string, @Arg("value", () => LabelValueInput) value: LabelValueInput, @Ctx() ctx: Context): Promise<LabelType> {
    return answer(ctx.app.db, viewerOf(ctx), itemId, value, ctx.requestId);
  }

  @Mutation(() => LabelType, { description: "The caller passes on an item: it is not offered to them again and does not count as a label." })
  async skipLabellingItem(@Arg("itemId", () => ID) itemId: string, @Ctx() ctx: Context): Promise<LabelType> {
    return answer(ctx.app.db, viewerOf(ctx), itemId, null, ctx.requestId);
  }

  @Mutation(() => JobType, {
    description:
      "Writes the task's labels as a new version of `dataset` (default <task>-labels): the source rows plus the label column (consensus of the answers; null for ties and unlabelled rows) and <label>_votes, with the source version as parent. For a prediction-log task, also records the labels as ground truth by request id.",
  })
  async exportLabels(
    @Arg("taskId", () => ID) taskId: string,
    @Ctx() ctx: Context,
    @Arg("dataset", () => String, { nullable: true }) dataset?: string | null,
    @Arg("labelledOnly", () => Boolean, { nullable: true, description: "Keep only rows that got a label." }) labelledOnly?: boolean | null,
  ): Promise<JobType> {
    const viewer = viewerOf(ctx);
    const task = await accessTask(ctx.app.db, viewer, taskId, "editor");
    if (task.status !== "ready") throw new OuroError("CONFLICT", `the task is ${task.status}; only a task with a queue can be exported`);
    const name = dataset ?? `${task.name}-labels`;
    checkDatasetName(name);
    const job = await ctx.app.db.transaction(async (tx) => {
      const out = await ensureDataset(tx, task.projectId, name);
      const { job } = await enqueueJob(tx, {
        projectId: task.projectId,
        kind: EXPORT_LABELS,
        payload: { taskId, datasetId: out.id, labelledOnly: labelledOnly ?? false },
        createdById: viewer.userId,
        maxAttempts: ctx.app.config.worker.maxAttempts,
      });
      await recordAudit(tx, { projectId: task.projectId, actorId: viewer.userId, action: "labelling.export", targetType: "labellingTask", targetId: taskId, data: { jobId: job.id, datasetId: out.id }, requestId: ctx.requestId });
      return job;
    });
    return Object.assign(new JobType(), job);
  }

  @Subscription(() => LabellingProgressType, {
    description: "The task's progress now, then again after every label, skip or status change. With `after`, only changes after that cursor.",
    subscribe: async ({ args, context }) => {
      const { taskId, after } = args as LabellingProgressArgs;
      const ctx = context as Context;
      await accessTask(ctx.app.db, viewerOf(ctx), taskId);
      return oneByOne(ctx.app.live.follow(progressFeed(ctx.app.db, taskId), streamPosition(after)));
    },
  })
  labellingProgress(@Root() progress: Progress, @Args(() => LabellingProgressArgs) _args: LabellingProgressArgs): LabellingProgressType {
    return asProgress(progress);
  }
}
