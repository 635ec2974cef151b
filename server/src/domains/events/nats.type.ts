import { Field, Float, ID, InputType, Int, ObjectType } from "type-graphql";

@ObjectType("EventStreamRejection", { description: "A message of the stream that was not a valid event: acked, recorded here, never redelivered." })
export class EventStreamRejectionType {
  @Field(() => Float, { description: "The message's sequence number in the JetStream stream." }) streamSequence: number;
  @Field(() => String) subject: string;
  @Field(() => String, { nullable: true }) eventId: string | null;
  @Field(() => String) reason: string;
  @Field(() => String, { description: "The first 500 characters of the message." }) excerpt: string;
  @Field(() => Date) rejectedAt: Date;
}

@ObjectType("EventStream", {
  description: "A NATS JetStream source of an event feature set, read by a worker through a durable pull consumer (servers: the worker's OURO_NATS_URL), with its live status and counters since it was attached.",
})
export class EventStreamType {
  @Field(() => ID) id: string;
  @Field(() => ID) featureSetId: string;
  @Field(() => String) streamName: string;
  @Field(() => String, { nullable: true, description: "Subject filter of the durable consumer; null: every subject of the stream." }) subject: string | null;
  @Field(() => String) durableName: string;
  @Field(() => String, { description: "first | new: where a newly created durable consumer starts." }) startFrom: string;
  @Field(() => Int) ackWaitSeconds: number;
  @Field(() => Int) batchSize: number;
  @Field(() => Date) attachedAt: Date;
  @Field(() => String, {
    description: "pending (no worker consumes it: none running with OURO_NATS_URL, or none heard from for 30 s) | starting | connected | disconnected (reconnecting with backoff) | error (see lastError; retrying)",
  })
  state: string;
  @Field(() => Boolean, { description: "A worker is consuming and connected to NATS." }) connected: boolean;
  @Field(() => String, { nullable: true, description: "The worker process consuming it." }) consumerHost: string | null;
  @Field(() => Date, { nullable: true, description: "When the consumer last reported." }) statusAt: Date | null;
  @Field(() => Float, { nullable: true, description: "Messages of the stream not yet consumed (pending + unacked), as of statusAt." }) lag: number | null;
  @Field(() => String, { nullable: true, description: "The latest error (kept after a recovery; see lastErrorAt and state)." }) lastError: string | null;
  @Field(() => Date, { nullable: true }) lastErrorAt: Date | null;
  @Field(() => Float, { nullable: true, description: "Stream sequence of the last message consumed." }) lastSequence: number | null;
  @Field(() => Date, { nullable: true }) lastMessageAt: Date | null;
  @Field(() => Float, { description: "Messages consumed (acked) since attached, redeliveries included." }) messages: number;
  @Field(() => Float, { description: "New events stored and counted." }) accepted: number;
  @Field(() => Float, { description: "Events whose id was already stored (redeliveries, resent events): counted once." }) duplicates: number;
  @Field(() => Float, { description: "Messages that were not valid events (see rejections)." }) rejected: number;
}

@InputType()
export class AttachEventStreamInput {
  @Field(() => String, { description: "The JetStream stream (it must exist on the NATS server)." }) streamName: string;
  @Field(() => String, { nullable: true, description: "Subject filter, e.g. purchases.> (default: every subject of the stream)." }) subject?: string | null;
  @Field(() => String, { nullable: true, description: "Durable consumer name (default ouro-<feature set name>); created if missing, resumed if it exists." })
  durableName?: string | null;
  @Field(() => String, { nullable: true, description: "first (default) | new: where a newly created durable consumer starts." }) startFrom?: string | null;
  @Field(() => Int, { nullable: true, description: "Seconds before an unacked message is redelivered (default 30)." }) ackWaitSeconds?: number | null;
  @Field(() => Int, { nullable: true, description: "Messages per pull and per ingest transaction (default 500, at most OURO_EVENTS_MAX_BATCH)." }) batchSize?: number | null;
}
