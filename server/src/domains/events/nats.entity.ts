import { Column, Entity, PrimaryGeneratedColumn } from "typeorm";

export type StreamState = "pending" | "starting" | "connected" | "disconnected" | "error";
export type StartFrom = "first" | "new";

/**
 * A NATS JetStream source attached to an event feature set: which stream, subject and durable
 * pull consumer to read (the servers are the worker's OURO_NATS_URL), plus the status and
 * counters the consuming worker keeps up to date. bigint columns arrive as strings.
 */
@Entity("event_streams")
export class EventStreamEntity {
  @PrimaryGeneratedColumn("uuid") id: string;
  @Column("uuid") featureSetId: string;
  @Column("uuid") projectId: string;
  @Column("text") streamName: string;
  @Column("text", { nullable: true }) subjectFilter: string | null;
  @Column("text") durableName: string;
  @Column("text", { default: "first" }) startFrom: StartFrom;
  @Column("integer") ackWaitSeconds: number;
  @Column("integer") batchSize: number;
  @Column("uuid", { nullable: true }) attachedById: string | null;
  @Column("timestamptz", { default: () => "now()" }) attachedAt: Date;
  @Column("text", { default: "pending" }) state: StreamState;
  @Column("text", { nullable: true }) consumerHost: string | null;
  @Column("timestamptz", { nullable: true }) statusAt: Date | null;
  @Column("bigint", { nullable: true }) lag: string | null;
  @Column("text", { nullable: true }) lastError: string | null;
  @Column("timestamptz", { nullable: true }) lastErrorAt: Date | null;
  @Column("bigint", { nullable: true }) lastSequence: string | null;
  @Column("timestamptz", { nullable: true }) lastMessageAt: Date | null;
  @Column("bigint", { default: 0 }) messages: string;
  @Column("bigint", { default: 0 }) accepted: string;
  @Column("bigint", { default: 0 }) duplicates: string;
  @Column("bigint", { default: 0 }) rejected: string;
}

/** A rejected message of an attachment (the newest 100 are kept). */
@Entity("event_stream_rejections")
export class EventStreamRejectionEntity {
  @PrimaryGeneratedColumn("increment", { type: "bigint" }) id: string;
  @Column("uuid") streamId: string;
  @Column("bigint") streamSequence: string;
  @Column("text") subject: string;
  @Column("text", { nullable: true }) eventId: string | null;
  @Column("text") reason: string;
  @Column("text") excerpt: string;
  @Column("timestamptz", { default: () => "now()" }) rejectedAt: Date;
}
