import { GraphQLJSONObject } from "graphql-scalars";
import { Field, ID, InputType } from "type-graphql";

@InputType()
export class CreatePipelineInput {
  @Field(() => ID) projectId: string;
  @Field(() => String) name: string;
  @Field(() => GraphQLJSONObject, { description: "{params?, steps: [{id, kind, params, after?}]}; kinds: ingest, fitRecipe, applyRecipe, materialize, buildTrainingSet, train, search, evaluate, register, gate." })
  spec: Record<string, unknown>;
  @Field(() => [GraphQLJSONObject], { nullable: true, description: 'Default [{kind: "manual"}]. {kind: "cron", schedule} | {kind: "datasetVersion", datasetId} | {kind: "alert", monitorId?} | {kind: "webhook"}' })
  triggers?: Record<string, unknown>[] | null;
}

@InputType()
export class UpdatePipelineInput {
  @Field(() => ID) id: string;
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true }) spec?: Record<string, unknown> | null;
  @Field(() => [GraphQLJSONObject], { nullable: true }) triggers?: Record<string, unknown>[] | null;
}
