import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from "type-graphql";
import { sql } from "../../platform/db";
import { notFound } from "../../platform/errors";
import { paginate } from "../../platform/graphql/connection";
import { type Context, viewerOf } from "../../platform/graphql/context";
import { CursorScalar, streamPosition } from "../../platform/graphql/scalars";
import { SHARED_EVENT, type SharedEvent } from "../../platform/graphql/shared-subscribe";
import type { MetricPoint } from "./metric.service";
import { recordAudit } from "../audit/audit.service";
import { enqueueJob } from "../jobs/job.service";
import { JobType } from "../jobs/job.type";
import { requireRole } from "../projects/project.service";
import { listArtifacts } from "./artifact.service";
import { ExperimentEntity } from "./experiment.entity";
import { logMetrics, metricsFeed, series } from "./metric.service";
import { RunEntity } from "./run.entity";
import { accessRun, finishRun, heartbeat, listParams, logParams, startRun } from "./run.service";
import { EXPORT_RUN } from "./run.tasks";
import {
  ArtifactType, ExperimentConnection, ExperimentType, LogMetricsResultType, MetricBatchType, MetricInput, MetricSeriesType,
  ParamInput, ParamType, RunConnection, RunEndStatusEnum, RunStatusEnum, RunType, StartRunInput,
} from "./run.type";

@ArgsType()
class RunMetricsArgs {
  @Field(() => ID) runId: string;
  @Field(() => [String], { nullable: true, description: "Only these keys; all if omitted." }) keys?: string[] | null;
  @Field(() => CursorScalar, { nullable: true, description: "Resume after this cursor; from the first point if omitted." }) after?: string;
}

interface MetricBatchEvent extends SharedEvent {
  runId: string;
  points: MetricPoint[];
}

@Resolver(() => RunType)
export class RunResolver {
  @Query(() => RunType)
  async run(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<RunType> {
    return accessRun(ctx.app.db, viewerOf(ctx), id, "viewer");
  }

  @Query(() => RunConnection, { description: "A project's runs, newest first." })
  async runs(
    @Arg("projectId", () => ID) projectId: string,
    @Ctx() ctx: Context,
    @Arg("experiment", () => String, { nullable: true }) experiment?: string,
    @Arg("status", () => RunStatusEnum, { nullable: true }) status?: RunStatusEnum,
    @Arg("first", () => Int, { nullable: true }) first?: number,
    @Arg("after", () => CursorScalar, { nullable: true }) after?: string,
    @Arg("parentRunId", () => ID, { nullable: true, description: "Only the children of this run (a search's trials)." }) parentRunId?: string,
    @Arg("topLevel", () => Boolean, { nullable: true, description: "true: only runs without a parent run." }) topLevel?: boolean,
  ) {
    await requireRole(ctx.app.db, viewerOf(ctx), projectId, "viewer");
    const qb = ctx.app.db.getRepository(RunEntity).createQueryBuilder("r").where("r.project_id = :projectId", { projectId });
    if (status) qb.andWhere("r.status = :status", { status });
    if (parentRunId) qb.andWhere("r.parent_run_id = :parentRunId", { parentRunId });
    if (topLevel) qb.andWhere("r.parent_run_id IS NULL");
    if (experiment) qb.andWhere("r.experiment_id IN (SELECT id FROM experiments WHERE project_id = :projectId AND name = :experiment)", { experiment });
    return paginate(qb, "r", first, after);
  }

  @Query(() => ExperimentConnection)
  async experiments(
    @Arg("projectId", () => ID) projectId: string,
    @Ctx() ctx: Context,
    @Arg("first", () => Int, { nullable: true }) first?: number,
    @Arg("after", () => CursorScalar, { nullable: true }) after?: string,
  ) {
    await requireRole(ctx.app.db, viewerOf(ctx), projectId, "viewer");
    const qb = ctx.app.db.getRepository(ExperimentEntity).createQueryBuilder("e").where("e.project_id = :projectId", { projectId });
    return paginate(qb, "e", first, after);
  }

  @FieldResolver(() => ExperimentType)
  async experiment(@Root() run: RunType, @Ctx() ctx: Context): Promise<ExperimentType> {
    return ctx.app.db.getRepository(ExperimentEntity).findOneByOrFail({ id: run.experimentId });
  }

  @FieldResolver(() => RunType, { nullable: true, description: "The run this one belongs to (e.g. a search's trial)." })
  async parentRun(@Root() run: RunType, @Ctx() ctx: Context): Promise<RunType | null> {
    return run.parentRunId ? ctx.app.db.getRepository(RunEntity).findOneBy({ id: run.parentRunId }) : null;
  }

  @FieldResolver(() => [ParamType])
  async params(@Root() run: RunType, @Ctx() ctx: Context): Promise<ParamType[]> {
    return listParams(ctx.app.db, run.id);
  }

  @FieldResolver(() => [MetricSeriesType], { description: "Series per key, downsampled to at most `buckets` points each." })
  async metrics(
    @Root() run: RunType,
    @Ctx() ctx: Context,
    @Arg("keys", () => [String], { nullable: true }) keys?: string[] | null,
    @Arg("buckets", () => Int, { defaultValue: 500 }) buckets?: number,
  ): Promise<MetricSeriesType[]> {
    return series(ctx.app.db, run.id, keys ?? null, buckets ?? 500);
  }

  @FieldResolver(() => [ArtifactType])
  async artifacts(@Root() run: RunType, @Ctx() ctx: Context): Promise<ArtifactType[]> {
    return (await listArtifacts(ctx.app.db, run.id)).map((a) => ({ ...a, byteSize: Number(a.byteSize) }));
  }

  @Mutation(() => RunType)
  async startRun(@Arg("input", () => StartRunInput) input: StartRunInput, @Ctx() ctx: Context): Promise<RunType> {
    return startRun(ctx.app.db, viewerOf(ctx), input, ctx.requestId);
  }

  @Mutation(() => [ParamType], { description: "Params are write-once; returns all params of the run." })
  async logParams(
    @Arg("runId", () => ID) runId: string,
    @Arg("params", () => [ParamInput]) params: ParamInput[],
    @Ctx() ctx: Context,
  ): Promise<ParamType[]> {
    return logParams(ctx.app.db, viewerOf(ctx), runId, params);
  }

  @Mutation(() => LogMetricsResultType, { description: "Up to 10000 points; (key, step) duplicates are ignored." })
  async logMetrics(
    @Arg("runId", () => ID) runId: string,
    @Arg("points", () => [MetricInput]) points: MetricInput[],
    @Ctx() ctx: Context,
  ): Promise<LogMetricsResultType> {
    return logMetrics(ctx.app.db, viewerOf(ctx), runId, points);
  }

  @Mutation(() => RunType, { description: "Tells Ouro the run is alive (logging metrics does too)." })
  async heartbeatRun(@Arg("runId", () => ID) runId: string, @Ctx() ctx: Context): Promise<RunType> {
    return heartbeat(ctx.app.db, viewerOf(ctx), runId);
  }

  @Mutation(() => RunType)
  async finishRun(
    @Arg("runId", () => ID) runId: string,
    @Ctx() ctx: Context,
    @Arg("status", () => RunEndStatusEnum, { defaultValue: RunEndStatusEnum.finished }) status: RunEndStatusEnum,
  ): Promise<RunType> {
    return finishRun(ctx.app.db, viewerOf(ctx), runId, status, ctx.requestId);
  }

  @Mutation(() => JobType, { description: "Exports the run (params and every metric point) as an NDJSON artifact." })
  async exportRun(
    @Arg("runId", () => ID) runId: string,
    @Ctx() ctx: Context,
    @Arg("idempotencyKey", () => String, { nullable: true }) idempotencyKey?: string,
  ): Promise<JobType> {
    const viewer = viewerOf(ctx);
    const run = await accessRun(ctx.app.db, viewer, runId, "editor");
    const job = await ctx.app.db.transaction(async (tx) => {
      const [{ up_to }] = await sql<{ up_to: string }>(tx, "SELECT coalesce(max(seq), 0)::text AS up_to FROM metric_points WHERE run_id = $1", [runId]);
      const { job, created } = await enqueueJob(tx, {
        projectId: run.projectId,
        kind: EXPORT_RUN,
        payload: { runId, upTo: up_to },
        idempotencyKey: idempotencyKey ?? null,
        createdById: viewer.userId,
        maxAttempts: ctx.app.config.worker.maxAttempts,
      });
      if (created) {
        await recordAudit(tx, { projectId: run.projectId, actorId: viewer.userId, action: "job.create", targetType: "job", targetId: job.id, data: { kind: EXPORT_RUN, runId }, requestId: ctx.requestId });
      }
      return job;
    });
    return Object.assign(new JobType(), job);
  }

  @Subscription(() => MetricBatchType, {
    description: "Every metric point of a run: first those after `after`, then live. Reconnect with the last cursor to miss nothing.",
    subscribe: async ({ args, context }) => {
      const { runId, keys, after } = args as RunMetricsArgs;
      const ctx = context as Context;
      await accessRun(ctx.app.db, viewerOf(ctx), runId, "viewer");
      const wanted = keys?.length ? new Set(keys) : null;
      const batches = ctx.app.live.follow(metricsFeed(ctx.app.db, runId), streamPosition(after), wanted ? (p) => wanted.has(p.key) : undefined);
      // The batch's result depends only on the points: subscribers of the same operation share it.
      return mapIterator(batches, (points): MetricBatchEvent => ({ runId, points, [SHARED_EVENT]: `${runId}:${points[0].seq}-${points[points.length - 1].seq}:${points.length}` }));
    },
  })
  runMetrics(@Root() event: MetricBatchEvent, @Args(() => RunMetricsArgs) _args: RunMetricsArgs): MetricBatchType {
    const last = event.points[event.points.length - 1];
    if (!last) throw notFound("metrics");
    return { runId: event.runId, points: event.points.map((p) => ({ ...p, cursor: p.seq.toString() })), cursor: last.seq.toString() };
  }
}

function mapIterator<A, B>(it: AsyncIterableIterator<A>, fn: (a: A) => B): AsyncIterableIterator<B> {
  const mapped: AsyncIterableIterator<B> = {
    [Symbol.asyncIterator]: () => mapped,
    next: async () => {
      const r = await it.next();
      return r.done ? { value: undefined, done: true } : { value: fn(r.value), done: false };
    },
    return: async () => {
      await it.return?.();
      return { value: undefined, done: true };
    },
  };
  return mapped;
}
