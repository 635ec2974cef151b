import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Resolver, Root } from "type-graphql";
import { type Context, viewerOf } from "../../platform/graphql/context";
import { EventSourceType } from "./event.type";
import type { EventStreamEntity } from "./nats.entity";
import { attachEventStream, detachEventStream, rejectionsOf, STATUS_STALE_MS, streamOf } from "./nats.service";
import { AttachEventStreamInput, EventStreamRejectionType, EventStreamType } from "./nats.type";

const num = (v: string | null): number | null => (v === null ? null : Number(v));

function toType(s: EventStreamEntity): EventStreamType {
  // A status nobody refreshed for a while belongs to a worker that is gone.
  const fresh = s.statusAt !== null && Date.now() - s.statusAt.getTime() < STATUS_STALE_MS;
  const state = fresh ? s.state : "pending";
  return {
    id: s.id,
    featureSetId: s.featureSetId,
    streamName: s.streamName,
    subject: s.subjectFilter,
    durableName: s.durableName,
    startFrom: s.startFrom,
    ackWaitSeconds: s.ackWaitSeconds,
    batchSize: s.batchSize,
    attachedAt: s.attachedAt,
    state,
    connected: state === "connected",
    consumerHost: state === "pending" ? null : s.consumerHost,
    statusAt: s.statusAt,
    lag: num(s.lag),
    lastError: s.lastError,
    lastErrorAt: s.lastErrorAt,
    lastSequence: num(s.lastSequence),
    lastMessageAt: s.lastMessageAt,
    messages: Number(s.messages),
    accepted: Number(s.accepted),
    duplicates: Number(s.duplicates),
    rejected: Number(s.rejected),
  };
}

/** `EventSource.stream`: the attached JetStream source, if any (the parent is already authorised). */
@Resolver(() => EventSourceType)
export class EventSourceStreamResolver {
  @FieldResolver(() => EventStreamType, { nullable: true, description: "The attached NATS JetStream source, if any." })
  async stream(@Root() source: EventSourceType, @Ctx() ctx: Context): Promise<EventStreamType | null> {
    const s = await streamOf(ctx.app.db, source.featureSetId);
    return s ? toType(s) : null;
  }
}

@Resolver(() => EventStreamType)
export class EventStreamResolver {
  @FieldResolver(() => [EventStreamRejectionType], { description: "The latest rejected messages, newest first (at most 100 are kept)." })
  async rejections(@Root() stream: EventStreamType, @Arg("limit", () => Int, { defaultValue: 20 }) limit: number, @Ctx() ctx: Context): Promise<EventStreamRejectionType[]> {
    const rows = await rejectionsOf(ctx.app.db, stream.id, limit);
    return rows.map((r) => ({ streamSequence: Number(r.streamSequence), subject: r.subject, eventId: r.eventId, reason: r.reason, excerpt: r.excerpt, rejectedAt: r.rejectedAt }));
  }

  @Mutation(() => EventStreamType, {
    description: "Feeds an event feature set from a NATS JetStream stream (editor role): a worker with OURO_NATS_URL reads it with a durable pull consumer, at least once, deduplicated by event id.",
  })
  async attachEventStream(
    @Arg("featureSetId", () => ID) featureSetId: string,
    @Arg("input", () => AttachEventStreamInput) input: AttachEventStreamInput,
    @Ctx() ctx: Context,
  ): Promise<EventStreamType> {
    return toType(await attachEventStream(ctx.app.db, ctx.app.config, viewerOf(ctx), featureSetId, input, ctx.requestId));
  }

  @Mutation(() => Boolean, { description: "Stops reading the attached stream. The durable consumer stays on the NATS server: attaching it again resumes where it stopped." })
  async detachEventStream(@Arg("featureSetId", () => ID) featureSetId: string, @Ctx() ctx: Context): Promise<boolean> {
    return detachEventStream(ctx.app.db, viewerOf(ctx), featureSetId, ctx.requestId);
  }
}
