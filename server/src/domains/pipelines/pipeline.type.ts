import { GraphQLJSONObject } from "graphql-scalars";
import { Field, ID, ObjectType } from "type-graphql";
import { Connection } from "../../platform/graphql/connection";
import { CursorScalar } from "../../platform/graphql/scalars";

@ObjectType("Pipeline")
export class PipelineType {
  @Field(() => ID) id: string;
  @Field(() => ID) projectId: string;
  @Field(() => String) name: string;
  @Field(() => GraphQLJSONObject, { description: "{params?, steps: [{id, kind, params, after?}]}" }) spec: Record<string, unknown>;
  @Field(() => [GraphQLJSONObject], { description: "{kind: manual|cron|datasetVersion|alert|webhook, ...}" }) triggers: Record<string, unknown>[];
  @Field(() => ID, { nullable: true, description: "Whose permissions unattended runs (schedule, data, alert, webhook) use: the last editor." }) createdById: string | null;
  @Field(() => Date) createdAt: Date;
  @Field(() => Date) updatedAt: Date;
  @Field(() => String, { description: "Where a signed POST starts a run (needs a webhook trigger)." })
  get webhookPath(): string {
    return `/v1/pipelines/${this.id}/webhook`;
  }
}

@ObjectType("CreatedPipeline")
export class CreatedPipelineType {
  @Field(() => PipelineType) pipeline: PipelineType;
  @Field(() => String, { description: "Signs webhook deliveries. Shown only now; rotatePipelineWebhookSecret makes a new one." }) webhookSecret: string;
}

@ObjectType("PipelineStepRun")
export class PipelineStepRunType {
  @Field(() => String) stepId: string;
  @Field(() => String) kind: string;
  @Field(() => String, { description: "pending, running, succeeded, failed, skipped or cancelled." }) status: string;
  @Field(() => GraphQLJSONObject, { nullable: true, description: "Params with references resolved." }) inputs: Record<string, unknown> | null;
  @Field(() => String, { nullable: true }) inputHash: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: "Ids and values later steps may reference." }) outputs: Record<string, unknown> | null;
  @Field(() => ID, { nullable: true }) jobId: string | null;
  @Field(() => Boolean, { description: "Outputs reused from an earlier identical step." }) cacheHit: boolean;
  @Field(() => String, { nullable: true }) error: string | null;
  @Field(() => Date, { nullable: true }) startedAt: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt: Date | null;
}

@ObjectType("PipelineRun")
export class PipelineRunType {
  @Field(() => ID) id: string;
  @Field(() => ID) pipelineId: string;
  @Field(() => ID) projectId: string;
  @Field(() => String, { description: "queued, running, succeeded, failed or cancelled." }) status: string;
  @Field(() => GraphQLJSONObject, { description: "What started it: {kind: manual|cron|datasetVersion|alert|webhook, ...}." }) trigger: Record<string, unknown>;
  @Field(() => GraphQLJSONObject) params: Record<string, unknown>;
  @Field(() => Boolean) force: boolean;
  @Field(() => String, { nullable: true }) error: string | null;
  @Field(() => Date) createdAt: Date;
  @Field(() => Date, { nullable: true }) startedAt: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt: Date | null;
  @Field(() => CursorScalar, { description: "Pass to pipelineRunUpdated(after:) to hear only later changes." })
  get cursor(): string {
    return String(this.seq);
  }
  seq: string;
}

export const PipelineConnection = Connection(PipelineType, "Pipeline");
export const PipelineRunConnection = Connection(PipelineRunType, "PipelineRun");
