import { Field, ID, InputType, Int, ObjectType } from "type-graphql";
import { FeatureSetType } from "../features/feature-set.type";

@ObjectType("EventField")
export class EventFieldType {
  @Field(() => String) name: string;
  @Field(() => String, { description: "string | integer | float | boolean" }) type: string;
}

@ObjectType("WindowAggregation")
export class WindowAggregationType {
  @Field(() => String) name: string;
  @Field(() => String, { description: "count | sum | mean | min | max | last | distinct_count" }) function: string;
  @Field(() => String, { nullable: true }) field: string | null;
  @Field(() => Int) windowMinutes: number;
}

@ObjectType("EventSource", { description: "The event schema and streaming window aggregations of an event feature set." })
export class EventSourceType {
  @Field(() => ID) featureSetId: string;
  @Field(() => FeatureSetType) featureSet: FeatureSetType;
  @Field(() => String) eventIdColumn: string;
  @Field(() => String) eventTimeColumn: string;
  @Field(() => [String]) entityKeys: string[];
  @Field(() => [EventFieldType]) fields: EventFieldType[];
  @Field(() => [WindowAggregationType]) aggregations: WindowAggregationType[];
  @Field(() => Int) allowedLatenessSeconds: number;
  @Field(() => Int) maxFutureSkewSeconds: number;
  @Field(() => Date, { nullable: true, description: "The latest event time accepted; events older than this minus the allowed lateness are refused." })
  watermark: Date | null;
}

@ObjectType("EventRejection")
export class EventRejectionType {
  @Field(() => Int, { description: "Position of the event in the batch (0-based)." }) index: number;
  @Field(() => String, { nullable: true }) eventId: string | null;
  @Field(() => String) reason: string;
}

@ObjectType("IngestEventsResult")
export class IngestEventsResultType {
  @Field(() => Int, { description: "New events stored and counted." }) accepted: number;
  @Field(() => Int, { description: "Events whose id was already seen: stored once, counted once." }) duplicates: number;
  @Field(() => [EventRejectionType]) rejected: EventRejectionType[];
  @Field(() => Int) entitiesUpdated: number;
  @Field(() => Date, { nullable: true }) watermark: Date | null;
}

@InputType()
export class EventFieldInput {
  @Field(() => String) name: string;
  @Field(() => String, { description: "string | integer | float | boolean" }) type: string;
}

@InputType()
export class WindowAggregationInput {
  @Field(() => String, { description: "Feature name (lowercase letters, digits, _)." }) name: string;
  @Field(() => String, { description: "count | sum | mean | min | max | last | distinct_count" }) function: string;
  @Field(() => String, { nullable: true, description: "The aggregated field (not for count)." }) field?: string | null;
  @Field(() => String, { description: "Sliding window: whole minutes, hours or days, e.g. 30m, 1h, 7d (at most 30d)." }) window: string;
}

@InputType()
export class CreateEventFeatureSetInput {
  @Field(() => ID) projectId: string;
  @Field(() => String) name: string;
  @Field(() => [String], { description: "Entity key field(s): string or integer fields declared in `fields`." }) entityKeys: string[];
  @Field(() => String, { description: "Event time: ISO 8601 with a time zone, or epoch milliseconds." }) eventTimeColumn: string;
  @Field(() => String, { description: "Event id, for deduplication." }) eventIdColumn: string;
  @Field(() => [EventFieldInput], { description: "Every other field of an event, typed; all are required in each event." }) fields: EventFieldInput[];
  @Field(() => [WindowAggregationInput]) aggregations: WindowAggregationInput[];
  @Field(() => Int, { nullable: true, description: "Events older than the watermark minus this are refused (default 3600)." }) allowedLatenessSeconds?: number | null;
  @Field(() => Int, { nullable: true, description: "Events more than this in the future are refused (default 300)." }) maxFutureSkewSeconds?: number | null;
}
