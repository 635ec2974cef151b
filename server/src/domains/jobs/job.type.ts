import { GraphQLJSONObject } from "graphql-scalars";
import { createUnionType, Field, Float, ID, Int, ObjectType, registerEnumType } from "type-graphql";
import { Connection } from "../../platform/graphql/connection";
import { CursorScalar } from "../../platform/graphql/scalars";
import type { JobStatus } from "./job.entity";

export enum JobStatusEnum {
  queued = "queued",
  running = "running",
  succeeded = "succeeded",
  failed = "failed",
  cancelled = "cancelled",
}
registerEnumType(JobStatusEnum, { name: "JobStatus" });

@ObjectType("JobLogLine")
export class JobLogLineType {
  @Field(() => Int) attempt: number;
  @Field(() => String) level: string;
  @Field(() => String) message: string;
  @Field(() => Date) at: Date;
}

/** Long work started by a mutation. Queue internals (worker ids, queue rows) stay out of it. */
@ObjectType("Job")
export class JobType {
  @Field(() => ID) id: string;
  @Field(() => ID) projectId: string;
  @Field(() => String, { description: "What the job does, e.g. runs.export." }) kind: string;
  @Field(() => JobStatusEnum) status: JobStatus;
  @Field(() => Float, { description: "0 to 1." }) progress: number;
  @Field(() => Int, { description: "Tries so far (1 on the first)." }) attempt: number;
  @Field(() => Int) maxAttempts: number;
  @Field(() => String, { nullable: true }) error: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true }) result: Record<string, unknown> | null;
  @Field(() => String, { nullable: true }) idempotencyKey: string | null;
  @Field(() => Date) createdAt: Date;
  @Field(() => Date, { nullable: true }) startedAt: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt: Date | null;
  @Field(() => Date) updatedAt: Date;
  @Field(() => CursorScalar, { description: "Pass to jobUpdated(after:) to hear only later changes." })
  get cursor(): string {
    return String(this.revision);
  }
  revision: number;
}

export const JobConnection = Connection(JobType, "Job");

@ObjectType("JobNotCancellable")
export class JobNotCancellable {
  @Field(() => String) message: string;
  @Field(() => JobType) job: JobType;
}

export const CancelJobResult = createUnionType({
  name: "CancelJobResult",
  types: () => [JobType, JobNotCancellable] as const,
  resolveType: (v) => ("message" in v ? JobNotCancellable : JobType),
});
