import { setTimeout as sleep } from "node:timers/promises";
import { Arg, Args, ArgsType, Ctx, Field, ID, Int, Mutation, Query, Resolver, Root, Subscription } from "type-graphql";
import { badInput, notFound } from "../../platform/errors";
import { sql } from "../../platform/db";
import { GraphQLJSONObject } from "graphql-scalars";
import { type Context, viewerOf } from "../../platform/graphql/context";
import type { DeploymentEntity } from "./deployment.entity";
import { JobType } from "../jobs/job.type";
import { accessDeployment, deployModel, deploymentStats, startBatchPrediction, startPredictionExport, startSimulation, type DeploymentStats, graphOf, listDeployments, logLabels, setDeploymentStatus, setTraffic, trafficOf } from "./deployment.service";
import { deleteDeployment } from "./deployment.delete";
import { decideRollout, rolloutOf, startRollout, type Rollout } from "./rollout";
import { DeployModelInput, DeploymentStatsType, DeploymentType, RolloutType, StartRolloutInput, LabelInput, PredictResultType, SetTrafficInput, SimulateTrafficInput } from "./deployment.type";
import { servingFor } from "./serving/registry";

function rolloutType(r: Rollout | null): RolloutType | null {
  if (!r) return null;
  const v = r.verdict;
  return {
    status: r.status,
    mode: r.mode,
    canaryWeight: r.canaryWeight,
    minLabels: r.minLabels,
    startedAt: new Date(r.startedAt),
    reason: r.reason,
    verdict: v ? { metric: v.metric, champion: v.champion, challenger: v.challenger, championLabels: v.labels.champion, challengerLabels: v.labels.challenger, better: v.better } : null,
  };
}

export function toDeploymentType(d: DeploymentEntity): DeploymentType {
  const graph = graphOf(d);
  const traffic = trafficOf(d);
  return {
    id: d.id,
    projectId: d.projectId,
    name: d.name,
    status: d.status,
    revision: d.revision,
    routes: traffic.routes,
    shadow: traffic.shadow,
    stickyKey: traffic.stickyKey,
    enrich: graph.enrich,
    threshold: graph.threshold,
    microBatch: graph.microBatch,
    endpoint: `/v1/endpoints/${d.name}/predict`,
    rollout: rolloutType(rolloutOf(d)),
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
  };
}

@ArgsType()
class DeploymentStatsArgs {
  @Field(() => ID) deploymentId: string;
  @Field(() => Int, { defaultValue: 60, description: "Seconds of history each sample covers (5 to 3600)." }) windowSeconds: number;
  @Field(() => Int, { defaultValue: 2, description: "Seconds between samples (1 to 60)." }) everySeconds: number;
}

/** Marks the end of a stats stream whose deployment was deleted; the field resolver turns it into NOT_FOUND. */
const GONE = Symbol("deployment gone");

/**
 * Samples until the deployment is deleted (checked before every sample), then ends with
 * NOT_FOUND rather than streaming zeros forever.
 */
async function* sampleStats(ctx: Context, deploymentId: string, windowSeconds: number, everySeconds: number): AsyncGenerator<DeploymentStats | typeof GONE> {
  for (;;) {
    const exists = await sql(ctx.app.db, "SELECT 1 FROM deployments WHERE id = $1", [deploymentId]);
    if (!exists.length) {
      yield GONE;
      return;
    }
    yield await deploymentStats(ctx.app.db, deploymentId, windowSeconds);
    await sleep(everySeconds * 1000);
  }
}

@Resolver(() => DeploymentType)
export class DeploymentResolver {
  @Query(() => DeploymentStatsType, { description: "Throughput and latency over the last window of the prediction log." })
  async deploymentStatsNow(@Arg("deploymentId", () => ID) deploymentId: string, @Ctx() ctx: Context, @Arg("windowSeconds", () => Int, { defaultValue: 60 }) windowSeconds: number): Promise<DeploymentStatsType> {
    const d = await accessDeployment(ctx.app.db, viewerOf(ctx), deploymentId);
    if (windowSeconds < 5 || windowSeconds > 3600) throw badInput("windowSeconds: 5 to 3600");
    return deploymentStats(ctx.app.db, d.id, windowSeconds);
  }

  @Subscription(() => DeploymentStatsType, {
    description: "A live gauge: a sample now, then one every `everySeconds`. Samples are recomputed from the prediction log, so a reconnect misses nothing worth replaying.",
    subscribe: async ({ args, context }) => {
      const { deploymentId, windowSeconds, everySeconds } = args as DeploymentStatsArgs;
      const ctx = context as Context;
      const d = await accessDeployment(ctx.app.db, viewerOf(ctx), deploymentId);
      if (windowSeconds < 5 || windowSeconds > 3600 || everySeconds < 1 || everySeconds > 60) throw badInput("windowSeconds: 5 to 3600; everySeconds: 1 to 60");
      return sampleStats(ctx, d.id, windowSeconds, everySeconds);
    },
  })
  deploymentStats(@Root() sample: DeploymentStats | typeof GONE, @Args(() => DeploymentStatsArgs) args: DeploymentStatsArgs): DeploymentStatsType {
    if (sample === GONE) throw notFound("deployment", args.deploymentId);
    return sample;
  }

  @Query(() => DeploymentType)
  async deployment(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<DeploymentType> {
    return toDeploymentType(await accessDeployment(ctx.app.db, viewerOf(ctx), id));
  }

  @Query(() => [DeploymentType])
  async deployments(@Arg("projectId", () => ID) projectId: string, @Ctx() ctx: Context): Promise<DeploymentType[]> {
    return (await listDeployments(ctx.app.db, viewerOf(ctx), projectId)).map(toDeploymentType);
  }

  @Mutation(() => DeploymentType, { description: "Creates an endpoint serving a model version (or routes of versions and ensembles)." })
  async deployModel(@Arg("input", () => DeployModelInput) input: DeployModelInput, @Ctx() ctx: Context): Promise<DeploymentType> {
    return toDeploymentType(await deployModel(ctx.app.db, viewerOf(ctx), input, ctx.requestId));
  }

  @Mutation(() => DeploymentType, { description: "Canary, shadow, A/B, upgrade, rollback: which versions answer, in what proportion. Applied without failing a request." })
  async setTraffic(@Arg("input", () => SetTrafficInput) input: SetTrafficInput, @Ctx() ctx: Context): Promise<DeploymentType> {
    return toDeploymentType(await setTraffic(ctx.app.db, viewerOf(ctx), input.deploymentId, input, ctx.requestId));
  }

  @Mutation(() => DeploymentType, { description: "Canary of a challenger version, promoted or rolled back automatically once labelled predictions decide (or by hand in manual mode)." })
  async startRollout(@Arg("input", () => StartRolloutInput) input: StartRolloutInput, @Ctx() ctx: Context): Promise<DeploymentType> {
    return toDeploymentType(await startRollout(ctx.app.db, viewerOf(ctx), input, ctx.requestId));
  }

  @Mutation(() => DeploymentType, { description: "Promotes the challenger of the rollout in progress." })
  async approveRollout(@Arg("deploymentId", () => ID) deploymentId: string, @Ctx() ctx: Context): Promise<DeploymentType> {
    return toDeploymentType(await decideRollout(ctx.app.db, viewerOf(ctx), deploymentId, true, ctx.requestId));
  }

  @Mutation(() => DeploymentType, { description: "Ends the rollout in progress, keeping the champion." })
  async rollbackRollout(@Arg("deploymentId", () => ID) deploymentId: string, @Ctx() ctx: Context): Promise<DeploymentType> {
    return toDeploymentType(await decideRollout(ctx.app.db, viewerOf(ctx), deploymentId, false, ctx.requestId));
  }

  @Mutation(() => DeploymentType, { description: "Stops or restarts an endpoint (stopped endpoints answer 503)." })
  async setDeploymentStatus(@Arg("id", () => ID) id: string, @Arg("active", () => Boolean) active: boolean, @Ctx() ctx: Context): Promise<DeploymentType> {
    return toDeploymentType(await setDeploymentStatus(ctx.app.db, viewerOf(ctx), id, active ? "active" : "stopped", ctx.requestId));
  }

  @Mutation(() => DeploymentType, {
    description:
      "Deletes a stopped endpoint with its monitors, prediction log and labels. Refused (CONFLICT, naming each reason) while it is active or while a labelling task, pipeline, queued or running job, or rollout in progress still needs it. Returns the deployment as it was.",
  })
  async deleteDeployment(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<DeploymentType> {
    return toDeploymentType(await deleteDeployment(ctx.app.db, viewerOf(ctx), id, ctx.requestId));
  }

  @Mutation(() => PredictResultType, { description: "The same path as POST /v1/endpoints/{name}/predict." })
  async predict(@Arg("deploymentId", () => ID) deploymentId: string, @Arg("rows", () => [GraphQLJSONObject]) rows: Record<string, unknown>[], @Ctx() ctx: Context): Promise<PredictResultType> {
    const d = await accessDeployment(ctx.app.db, viewerOf(ctx), deploymentId);
    return servingFor(ctx.app).predict(d.id, { rows }, ctx.requestId);
  }

  @Mutation(() => JobType, { description: "Scores a dataset version with a model version (through its fitted recipe) into a new version of outputDataset." })
  async batchPredict(
    @Arg("modelVersionId", () => ID) modelVersionId: string,
    @Arg("datasetVersionId", () => ID) datasetVersionId: string,
    @Arg("outputDataset", () => String) outputDataset: string,
    @Ctx() ctx: Context,
  ): Promise<JobType> {
    const job = await startBatchPrediction(ctx.app.db, viewerOf(ctx), { modelVersionId, datasetVersionId, outputDataset }, ctx.app.config.worker.maxAttempts, ctx.requestId);
    return Object.assign(new JobType(), job);
  }

  @Mutation(() => JobType, { description: "Replays a dataset version against an endpoint at a rate, with optional drift and delayed labels (testing with simulated traffic)." })
  async simulateTraffic(@Arg("input", () => SimulateTrafficInput) input: SimulateTrafficInput, @Ctx() ctx: Context): Promise<JobType> {
    const job = await startSimulation(ctx.app.db, viewerOf(ctx), input, ctx.app.config.worker.maxAttempts, ctx.requestId);
    return Object.assign(new JobType(), job);
  }

  @Mutation(() => JobType, { description: "Logged predictions with their labels as a new version of outputDataset: training data from live traffic." })
  async exportPredictions(
    @Arg("deploymentId", () => ID) deploymentId: string,
    @Arg("outputDataset", () => String) outputDataset: string,
    @Ctx() ctx: Context,
    @Arg("sinceMinutes", () => Int, { nullable: true }) sinceMinutes?: number,
    @Arg("labelledOnly", () => Boolean, { defaultValue: true }) labelledOnly?: boolean,
    @Arg("labelColumn", () => String, { nullable: true, description: "Default: the served model's target." }) labelColumn?: string,
  ): Promise<JobType> {
    const job = await startPredictionExport(ctx.app.db, viewerOf(ctx), { deploymentId, outputDataset, sinceMinutes, labelledOnly, labelColumn }, ctx.app.config.worker.maxAttempts, ctx.requestId);
    return Object.assign(new JobType(), job);
  }

  @Mutation(() => Int, { description: "Ground truth for earlier predictions, by their request ids. Returns how many were recorded." })
  async logLabels(@Arg("deploymentId", () => ID) deploymentId: string, @Arg("labels", () => [LabelInput]) labels: LabelInput[], @Ctx() ctx: Context): Promise<number> {
    const d = await accessDeployment(ctx.app.db, viewerOf(ctx), deploymentId, "editor");
    return logLabels(ctx.app.db, d, labels);
  }
}
