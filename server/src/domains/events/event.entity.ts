import { Column, Entity, PrimaryColumn } from "typeorm";

export type FieldType = "string" | "integer" | "float" | "boolean";
export const FIELD_TYPES: FieldType[] = ["string", "integer", "float", "boolean"];
export type AggregationFunction = "count" | "sum" | "mean" | "min" | "max" | "last" | "distinct_count";
export const AGGREGATION_FUNCTIONS: AggregationFunction[] = ["count", "sum", "mean", "min", "max", "last", "distinct_count"];

export interface EventField {
  name: string;
  type: FieldType;
}

export interface Aggregation {
  /** The feature's name in the online store and the offline dataset. */
  name: string;
  function: AggregationFunction;
  /** The aggregated field; none for count. */
  field: string | null;
  windowMinutes: number;
}

/** The event schema and window aggregations of an event feature set (one per feature set). */
@Entity("event_sources")
export class EventSourceEntity {
  @PrimaryColumn("uuid") featureSetId: string;
  @Column("uuid") projectId: string;
  @Column("text") eventIdColumn: string;
  @Column("jsonb") fields: EventField[];
  @Column("jsonb") aggregations: Aggregation[];
  @Column("integer") allowedLatenessSeconds: number;
  @Column("integer") maxFutureSkewSeconds: number;
  @Column("timestamptz", { nullable: true }) watermark: Date | null;
  /** Bumped by every window update: a process's cached minute buckets are valid for one generation (window-cache.ts). */
  @Column("bigint", { default: 0 }) generation: string;
  @Column("timestamptz", { default: () => "now()" }) createdAt: Date;
}

/** The append-only history (partitioned by day in the database). */
@Entity("events")
export class EventEntity {
  @PrimaryColumn("uuid") featureSetId: string;
  @PrimaryColumn("text") eventId: string;
  @Column("text") entityKey: string;
  @Column("timestamptz") eventTime: Date;
  @Column("timestamptz", { default: () => "now()" }) ingestedAt: Date;
  @Column("jsonb") payload: Record<string, unknown>;
}

/** Event ids seen, for deduplication. */
@Entity("event_ids")
export class EventIdEntity {
  @PrimaryColumn("uuid") featureSetId: string;
  @PrimaryColumn("text") eventId: string;
}
