import { GraphQLJSONObject } from "graphql-scalars";
import { Arg, Args, ArgsType, Ctx, Field, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from "type-graphql";
import { badInput } from "../../platform/errors";
import { mapPage, paginate } from "../../platform/graphql/connection";
import { type Context, viewerOf } from "../../platform/graphql/context";
import { CursorScalar, streamPosition } from "../../platform/graphql/scalars";
import { oneByOne } from "../../platform/live";
import { requireRole } from "../projects/project.service";
import { PipelineRunEntity } from "./pipeline-run.entity";
import { PipelineEntity } from "./pipeline.entity";
import { CreatePipelineInput, UpdatePipelineInput } from "./pipeline.inputs";
import {
  accessPipeline,
  accessPipelineRun,
  cancelPipelineRun,
  createPipeline,
  pipelineFeed,
  rotateWebhookSecret,
  runFeed,
  runPipeline,
  runSteps,
  updatePipeline,
} from "./pipeline.service";
import { CreatedPipelineType, PipelineConnection, PipelineRunConnection, PipelineRunType, PipelineStepRunType, PipelineType } from "./pipeline.type";

const asPipeline = (p: PipelineEntity): PipelineType => Object.assign(new PipelineType(), p) as PipelineType;
const asRun = (r: PipelineRunEntity): PipelineRunType => Object.assign(new PipelineRunType(), r) as PipelineRunType;
const FINAL = ["succeeded", "failed", "cancelled"];

@ArgsType()
class PipelineRunUpdatedArgs {
  @Field(() => ID, { nullable: true, description: "Follow one run (the stream ends when it does)…" }) pipelineRunId?: string | null;
  @Field(() => ID, { nullable: true, description: "…or every run of a pipeline." }) pipelineId?: string | null;
  @Field(() => CursorScalar, { nullable: true }) after?: string;
}

@Resolver(() => PipelineType)
export class PipelineResolver {
  @Query(() => PipelineType)
  async pipeline(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<PipelineType> {
    return asPipeline(await accessPipeline(ctx.app.db, viewerOf(ctx), id));
  }

  @Query(() => PipelineConnection)
  async pipelines(
    @Arg("projectId", () => ID) projectId: string,
    @Ctx() ctx: Context,
    @Arg("first", () => Int, { nullable: true }) first?: number,
    @Arg("after", () => CursorScalar, { nullable: true }) after?: string,
  ) {
    await requireRole(ctx.app.db, viewerOf(ctx), projectId, "viewer");
    const qb = ctx.app.db.getRepository(PipelineEntity).createQueryBuilder("p").where("p.project_id = :projectId", { projectId });
    return mapPage(await paginate(qb, "p", first, after), asPipeline);
  }

  @FieldResolver(() => PipelineRunConnection, { description: "Runs, newest first." })
  async runs(
    @Root() pipeline: PipelineType,
    @Ctx() ctx: Context,
    @Arg("first", () => Int, { nullable: true }) first?: number,
    @Arg("after", () => CursorScalar, { nullable: true }) after?: string,
  ) {
    const qb = ctx.app.db.getRepository(PipelineRunEntity).createQueryBuilder("r").where("r.pipeline_id = :id", { id: pipeline.id });
    return mapPage(await paginate(qb, "r", first, after), asRun);
  }

  @Mutation(() => CreatedPipelineType, { description: "The spec is validated now (step kinds, params, references, cycles); the webhook secret is shown only in this answer." })
  async createPipeline(@Arg("input", () => CreatePipelineInput) input: CreatePipelineInput, @Ctx() ctx: Context): Promise<CreatedPipelineType> {
    const { pipeline, webhookSecret } = await createPipeline(ctx.app.db, viewerOf(ctx), input, { configuredKey: ctx.app.config.secretKey }, ctx.requestId);
    return { pipeline: asPipeline(pipeline), webhookSecret };
  }

  @Mutation(() => PipelineType, { description: "Runs already started keep the spec they started with." })
  async updatePipeline(@Arg("input", () => UpdatePipelineInput) input: UpdatePipelineInput, @Ctx() ctx: Context): Promise<PipelineType> {
    return asPipeline(await updatePipeline(ctx.app.db, viewerOf(ctx), input, ctx.requestId));
  }

  @Mutation(() => String, { description: "A new webhook secret; the old one stops working at once." })
  async rotatePipelineWebhookSecret(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<string> {
    return rotateWebhookSecret(ctx.app.db, viewerOf(ctx), id, { configuredKey: ctx.app.config.secretKey }, ctx.requestId);
  }

  @Mutation(() => PipelineRunType, { description: "Starts a run; steps whose inputs did not change reuse earlier outputs unless force is true." })
  async runPipeline(
    @Arg("pipelineId", () => ID) pipelineId: string,
    @Ctx() ctx: Context,
    @Arg("params", () => GraphQLJSONObject, { nullable: true }) params?: Record<string, unknown> | null,
    @Arg("force", () => Boolean, { defaultValue: false }) force?: boolean,
    @Arg("idempotencyKey", () => String, { nullable: true }) idempotencyKey?: string | null,
  ): Promise<PipelineRunType> {
    if (idempotencyKey != null && (idempotencyKey.length < 1 || idempotencyKey.length > 200)) throw badInput("idempotencyKey: 1 to 200 characters");
    return asRun(await runPipeline(ctx.app.db, viewerOf(ctx), { pipelineId, params, force, idempotencyKey: idempotencyKey ? `manual:${idempotencyKey}` : null }, ctx.requestId));
  }
}

@Resolver(() => PipelineRunType)
export class PipelineRunResolver {
  @Query(() => PipelineRunType)
  async pipelineRun(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<PipelineRunType> {
    return asRun(await accessPipelineRun(ctx.app.db, viewerOf(ctx), id));
  }

  @FieldResolver(() => [PipelineStepRunType], { description: "In spec order." })
  async steps(@Root() run: PipelineRunType, @Ctx() ctx: Context): Promise<PipelineStepRunType[]> {
    return runSteps(ctx.app.db, run.id);
  }

  @Mutation(() => PipelineRunType, { description: "Cancels the run's running step jobs and skips the rest. A finished run is returned unchanged." })
  async cancelPipelineRun(@Arg("id", () => ID) id: string, @Ctx() ctx: Context): Promise<PipelineRunType> {
    return asRun(await cancelPipelineRun(ctx.app.db, viewerOf(ctx), id, ctx.requestId));
  }

  @Subscription(() => PipelineRunType, {
    description: "A run (or every run of a pipeline) now, then again on every change. With `after`, only changes after that cursor.",
    subscribe: async ({ args, context }) => {
      const { pipelineRunId, pipelineId, after } = args as PipelineRunUpdatedArgs;
      const ctx = context as Context;
      if ((pipelineRunId == null) === (pipelineId == null)) throw badInput("give pipelineRunId or pipelineId");
      const from = streamPosition(after);
      if (pipelineRunId) {
        await accessPipelineRun(ctx.app.db, viewerOf(ctx), pipelineRunId);
        return untilFinal(oneByOne(ctx.app.live.follow(runFeed(ctx.app.db, pipelineRunId), from)));
      }
      await accessPipeline(ctx.app.db, viewerOf(ctx), pipelineId!);
      return oneByOne(ctx.app.live.follow(pipelineFeed(ctx.app.db, pipelineId!), from));
    },
  })
  pipelineRunUpdated(@Root() run: PipelineRunEntity, @Args(() => PipelineRunUpdatedArgs) _args: PipelineRunUpdatedArgs): PipelineRunType {
    return asRun(run);
  }
}

/** Ends a single run's stream once its final state has been delivered. */
function untilFinal(runs: AsyncIterableIterator<PipelineRunEntity>): AsyncIterableIterator<PipelineRunEntity> {
  let ended = false;
  const it: AsyncIterableIterator<PipelineRunEntity> = {
    [Symbol.asyncIterator]: () => it,
    async next() {
      if (ended) {
        await runs.return?.();
        return { value: undefined, done: true };
      }
      const r = await runs.next();
      if (!r.done && FINAL.includes(r.value.status)) ended = true;
      return r;
    },
    async return() {
      await runs.return?.();
      return { value: undefined, done: true };
    },
  };
  return it;
}
