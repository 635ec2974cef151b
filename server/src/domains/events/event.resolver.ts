import { GraphQLJSON } from "graphql-scalars";
import { Arg, Ctx, ID, Mutation, Query, Resolver } from "type-graphql";
import { type Context, viewerOf } from "../../platform/graphql/context";
import { recordAudit } from "../audit/audit.service";
import type { FeatureSetEntity } from "../features/feature-set.entity";
import { enqueueJob } from "../jobs/job.service";
import { JobType } from "../jobs/job.type";
import type { EventSourceEntity } from "./event.entity";
import { accessEventSource, createEventFeatureSet } from "./event-source.service";
import { CreateEventFeatureSetInput, EventSourceType, IngestEventsResultType } from "./event.type";
import { MATERIALIZE_EVENT_FEATURES } from "./events.tasks";
import { ingestorOf } from "./ingest.service";

const toType = (featureSet: FeatureSetEntity, source: EventSourceEntity): EventSourceType => ({
  featureSetId: featureSet.id,
  featureSet,
  eventIdColumn: source.eventIdColumn,
  eventTimeColumn: featureSet.timestampColumn!,
  entityKeys: featureSet.entityKeys,
  fields: source.fields,
  aggregations: source.aggregations,
  allowedLatenessSeconds: source.allowedLatenessSeconds,
  maxFutureSkewSeconds: source.maxFutureSkewSeconds,
  watermark: source.watermark,
});

@Resolver()
export class EventResolver {
  @Query(() => EventSourceType)
  async eventSource(@Arg("featureSetId", () => ID) featureSetId: string, @Ctx() ctx: Context): Promise<EventSourceType> {
    const { featureSet, source } = await accessEventSource(ctx.app.db, viewerOf(ctx), featureSetId, "viewer");
    return toType(featureSet, source);
  }

  @Mutation(() => EventSourceType, { description: "A feature set fed by events, with window aggregations kept fresh in the online store." })
  async createEventFeatureSet(@Arg("input", () => CreateEventFeatureSetInput) input: CreateEventFeatureSetInput, @Ctx() ctx: Context): Promise<EventSourceType> {
    const { featureSet, source } = await createEventFeatureSet(ctx.app.db, viewerOf(ctx), input, ctx.requestId);
    return toType(featureSet, source);
  }

  @Mutation(() => IngestEventsResultType, {
    description: "Stores a batch of events (at most OURO_EVENTS_MAX_BATCH) and updates the online window features. Bad events are rejected with reasons; good ones are kept. POST /v1/events/{featureSetId} does the same over plain HTTP.",
  })
  async ingestEvents(
    @Arg("featureSetId", () => ID) featureSetId: string,
    @Arg("events", () => [GraphQLJSON]) events: unknown[],
    @Ctx() ctx: Context,
  ): Promise<IngestEventsResultType> {
    return ingestorOf(ctx.app).ingest(viewerOf(ctx), featureSetId, events);
  }

  @Mutation(() => JobType, { description: "Computes the window aggregations as of every event time over the whole event history (the offline store, for buildTrainingSet)." })
  async materializeEventFeatures(@Arg("featureSetId", () => ID) featureSetId: string, @Ctx() ctx: Context): Promise<JobType> {
    const viewer = viewerOf(ctx);
    const { featureSet } = await accessEventSource(ctx.app.db, viewer, featureSetId, "editor");
    const job = await ctx.app.db.transaction(async (tx) => {
      const { job } = await enqueueJob(tx, {
        projectId: featureSet.projectId,
        kind: MATERIALIZE_EVENT_FEATURES,
        payload: { featureSetId },
        createdById: viewer.userId,
        maxAttempts: ctx.app.config.worker.maxAttempts,
      });
      await recordAudit(tx, { projectId: featureSet.projectId, actorId: viewer.userId, action: MATERIALIZE_EVENT_FEATURES, targetType: "featureSet", targetId: featureSetId, data: { jobId: job.id }, requestId: ctx.requestId });
      return job;
    });
    return Object.assign(new JobType(), job);
  }
}
