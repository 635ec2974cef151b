import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from "type-graphql";
import { checkFirst, paginate } from "../../platform/graphql/connection";
import { type Context, viewerOf } from "../../platform/graphql/context";
import { CursorScalar, streamPosition } from "../../platform/graphql/scalars";
import { oneByOne } from "../../platform/live";
import { JobType } from "../jobs/job.type";
import type { FeatureDrift, WindowEvaluation } from "./monitor.evaluate";
import type { MonitorResultEntity } from "./monitor-result.entity";
import type { MonitorEntity } from "./monitor.entity";
import { accessMonitor, createMonitor, latestResult, listMonitorsQuery, monitorFeed, resultsPage, runMonitorNow, setMonitorStatus } from "./monitor.service";
import { CreateMonitorInput, DriftStatusEnum, FeatureDriftType, MonitorConnection, type MonitorKindEnum, MonitorResultPageType, MonitorResultType, MonitorType } from "./monitor.type";

export function asMonitor(m: MonitorEntity): MonitorType {
  return { id: m.id, projectId: m.projectId, name: m.name, deploymentId: m.deploymentId, kinds: m.config.kinds as MonitorKindEnum[], status: m.status, referenceVersionId: m.referenceVersionId, config: m.config as unknown as Record<string, unknown>, createdAt: m.createdAt };
}

const asFeature = (f: FeatureDrift): FeatureDriftType => ({ ...f, status: f.status as DriftStatusEnum });

export function asResult(r: MonitorResultEntity): MonitorResultType {
  const d = r.details as Partial<WindowEvaluation>;
  return {
    cursor: r.seq, monitorId: r.monitorId, windowKey: r.windowKey, windowStart: r.windowStart, windowEnd: r.windowEnd, predictions: r.predictions,
    status: r.status as DriftStatusEnum, driftScore: r.driftScore, features: (d.features ?? []).map(asFeature), prediction: d.prediction ? asFeature(d.prediction) : null,
    performance: (d.performance as Record<string, unknown> | null) ?? null, quality: (d.quality as unknown as Record<string, unknown> | null) ?? null, evaluatedAt: r.evaluatedAt,
  };
}

@ArgsType()
class MonitorUpdatesArgs {
  @Field(() => ID) monitorId: string;
  @Field(() => CursorScalar, { nullable: true, description: "Resume after this result's cursor; from the first result if omitted." }) after?: string;
}

@Resolver(() => MonitorType)
export class MonitorResolver {
  @Query(() => MonitorType)
  async monitor(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<MonitorType> {
    return asMonitor(await accessMonitor(ctx.app.db, viewerOf(ctx), id));
  }

  @Query(() => MonitorConnection, { description: "A project's monitors, newest first." })
  async monitors(
    @Arg("projectId", () => ID) projectId: string,
    @Ctx() ctx: Context,
    @Arg("first", () => Int, { nullable: true }) first?: number,
    @Arg("after", () => CursorScalar, { nullable: true }) after?: string,
  ) {
    const qb = await listMonitorsQuery(ctx.app.db, viewerOf(ctx), projectId);
    const page = await paginate(qb, "m", first, after);
    return { ...page, nodes: page.nodes.map(asMonitor), edges: page.edges.map((e) => ({ ...e, node: asMonitor(e.node) })) };
  }

  @FieldResolver(() => MonitorResultType, { nullable: true })
  async latestResult(@Root() m: MonitorType, @Ctx() ctx: Context): Promise<MonitorResultType | null> {
    const r = await latestResult(ctx.app.db, m.id);
    return r ? asResult(r) : null;
  }

  @FieldResolver(() => MonitorResultPageType, { description: "Results in window order, after `after` (a result cursor)." })
  async results(
    @Root() m: MonitorType,
    @Ctx() ctx: Context,
    @Arg("first", () => Int, { nullable: true }) first?: number,
    @Arg("after", () => CursorScalar, { nullable: true }) after?: string,
  ): Promise<MonitorResultPageType> {
    const page = await resultsPage(ctx.app.db, m.id, checkFirst(first), streamPosition(after));
    return { ...page, nodes: page.nodes.map(asResult) };
  }

  @Mutation(() => MonitorType, { description: "Watches a deployment's predictions for drift, performance and data quality (editor)." })
  async createMonitor(@Arg("input", () => CreateMonitorInput) input: CreateMonitorInput, @Ctx() ctx: Context): Promise<MonitorType> {
    const m = await createMonitor(ctx.app.db, viewerOf(ctx), {
      deploymentId: input.deploymentId, name: input.name, kinds: input.kinds, referenceVersionId: input.referenceVersionId, features: input.features,
      windowMinutes: input.window.minutes, windowPredictions: input.window.predictions, potentialThreshold: input.potentialThreshold, detectedThreshold: input.detectedThreshold,
      quality: input.quality ? { ...input.quality } as Record<string, number> : null, task: input.task as "classification" | "regression" | null, target: input.target,
    }, ctx.requestId);
    return asMonitor(m);
  }

  @Mutation(() => JobType, { description: "Evaluates the latest window now (the last N predictions or minutes); the job's result holds the result's cursor." })
  async runMonitorNow(@Arg("monitorId", () => ID) monitorId: string, @Ctx() ctx: Context): Promise<JobType> {
    return Object.assign(new JobType(), await runMonitorNow(ctx.app.db, viewerOf(ctx), monitorId, ctx.app.config, ctx.requestId));
  }

  @Mutation(() => MonitorType, { description: "Pauses a monitor (no scheduled windows; runMonitorNow still works) or resumes it from now (editor)." })
  async setMonitorPaused(@Arg("monitorId", () => ID) monitorId: string, @Arg("paused", () => Boolean) paused: boolean, @Ctx() ctx: Context): Promise<MonitorType> {
    return asMonitor(await setMonitorStatus(ctx.app.db, viewerOf(ctx), monitorId, paused ? "paused" : "active", ctx.requestId));
  }

  @Subscription(() => MonitorResultType, {
    description: "Every result of a monitor: first those after `after`, then live. Reconnect with the last cursor to miss nothing.",
    subscribe: async ({ args, context }) => {
      const { monitorId, after } = args as MonitorUpdatesArgs;
      const ctx = context as Context;
      await accessMonitor(ctx.app.db, viewerOf(ctx), monitorId);
      return oneByOne(ctx.app.live.follow(monitorFeed(ctx.app.db, monitorId), streamPosition(after)));
    },
  })
  monitorUpdates(@Root() r: MonitorResultEntity, @Args(() => MonitorUpdatesArgs) _args: MonitorUpdatesArgs): MonitorResultType {
    return asResult(r);
  }
}
