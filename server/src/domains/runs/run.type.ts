import { GraphQLJSONObject } from "graphql-scalars";
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import { Connection } from "../../platform/graphql/connection";
import { CursorScalar } from "../../platform/graphql/scalars";
import type { RunStatus } from "./run.entity";

export enum RunStatusEnum {
  running = "running",
  finished = "finished",
  failed = "failed",
  killed = "killed",
}
registerEnumType(RunStatusEnum, { name: "RunStatus" });

export enum RunEndStatusEnum {
  finished = "finished",
  failed = "failed",
  killed = "killed",
}
registerEnumType(RunEndStatusEnum, { name: "RunEndStatus" });

@ObjectType("Experiment")
export class ExperimentType {
  @Field(() => ID) id: string;
  @Field(() => ID) projectId: string;
  @Field(() => String) name: string;
  @Field(() => String) description: string;
  @Field(() => Date) createdAt: Date;
}
export const ExperimentConnection = Connection(ExperimentType, "Experiment");

@ObjectType("Param")
export class ParamType {
  @Field(() => String) key: string;
  @Field(() => String) value: string;
}

@ObjectType("SeriesPoint")
export class SeriesPointType {
  @Field(() => Float, { description: "First step of the bucket (the step itself when not downsampled)." }) step: number;
  @Field(() => Float, { description: "Value, or the bucket's mean." }) value: number;
  @Field(() => Float) min: number;
  @Field(() => Float) max: number;
  @Field(() => Date) timestamp: Date;
}

@ObjectType("MetricSeries")
export class MetricSeriesType {
  @Field(() => String) key: string;
  @Field(() => Int, { description: "Points stored for this key." }) total: number;
  @Field(() => Float, { description: "Highest step stored for this key." }) lastStep: number;
  @Field(() => Boolean) downsampled: boolean;
  @Field(() => [SeriesPointType]) points: SeriesPointType[];
}

@ObjectType("MetricPoint")
export class MetricPointType {
  @Field(() => CursorScalar, { description: "Resume after this point with runMetrics(after:)." }) cursor: string;
  @Field(() => String) key: string;
  @Field(() => Float) step: number;
  @Field(() => Float) value: number;
  @Field(() => Date) timestamp: Date;
}

@ObjectType("MetricBatch", { description: "Points in the order they were stored; `cursor` resumes after the last." })
export class MetricBatchType {
  @Field(() => ID) runId: string;
  @Field(() => [MetricPointType]) points: MetricPointType[];
  @Field(() => CursorScalar) cursor: string;
}

@ObjectType("LogMetricsResult")
export class LogMetricsResultType {
  @Field(() => Int, { description: "Points stored by this call." }) accepted: number;
  @Field(() => Int, { description: "Points already stored for their (key, step): ignored." }) duplicates: number;
  @Field(() => CursorScalar) cursor: string;
}

@ObjectType("Artifact")
export class ArtifactType {
  @Field(() => ID) id: string;
  @Field(() => String) name: string;
  @Field(() => String) kind: string;
  @Field(() => String) sha256: string;
  @Field(() => Float) byteSize: number;
  @Field(() => String) contentType: string;
  @Field(() => Date) createdAt: Date;
}

@ObjectType("Run")
export class RunType {
  @Field(() => ID) id: string;
  @Field(() => ID) projectId: string;
  @Field(() => ID) experimentId: string;
  @Field(() => String) name: string;
  @Field(() => RunStatusEnum) status: RunStatus;
  @Field(() => String, { nullable: true }) statusReason: string | null;
  @Field(() => Date) startedAt: Date;
  @Field(() => Date, { nullable: true }) finishedAt: Date | null;
  @Field(() => Date) heartbeatAt: Date;
  @Field(() => GraphQLJSONObject) tags: Record<string, string>;
  @Field(() => ID, { nullable: true }) parentRunId: string | null;
  @Field(() => Date) createdAt: Date;
}
export const RunConnection = Connection(RunType, "Run");

@InputType()
export class StartRunInput {
  @Field(() => ID) projectId: string;
  @Field(() => String, { description: "Experiment name; created on first use." }) experiment: string;
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true }) tags?: Record<string, string> | null;
  @Field(() => ID, { nullable: true }) parentRunId?: string | null;
}

@InputType()
export class ParamInput {
  @Field(() => String) key: string;
  @Field(() => String) value: string;
}

@InputType()
export class MetricInput {
  @Field(() => String) key: string;
  @Field(() => Float) value: number;
  @Field(() => Float, { description: "Whole number ≥ 0; (key, step) is unique in a run." }) step: number;
  @Field(() => Date, { nullable: true, description: "When measured; now if omitted." }) timestamp?: Date | null;
}
