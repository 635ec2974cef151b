import { GraphQLJSONObject } from "graphql-scalars";
import { Field, ID, InputType, Int, ObjectType } from "type-graphql";
import { Connection } from "../../platform/graphql/connection";

@ObjectType("ModelAlias")
export class ModelAliasType {
  @Field(() => String) alias: string;
  @Field(() => ID) modelVersionId: string;
  @Field(() => ID, { nullable: true }) setById: string | null;
  @Field(() => Date) createdAt: Date;
  @Field(() => Date, { nullable: true, description: "When another version took the alias; null while it holds it." }) replacedAt: Date | null;
}

@ObjectType("ModelVersion")
export class ModelVersionType {
  @Field(() => ID) id: string;
  @Field(() => ID) projectId: string;
  @Field(() => ID) modelId: string;
  @Field(() => Int) version: number;
  @Field(() => ID, { nullable: true, description: "The run that trained it." }) runId: string | null;
  @Field(() => ID, { nullable: true }) artifactId: string | null;
  @Field(() => ID, { nullable: true, description: "The fitted recipe its inputs go through." }) recipeId: string | null;
  @Field(() => GraphQLJSONObject, { description: "Input columns and types, target, task, classes." }) signature: Record<string, unknown>;
  @Field(() => GraphQLJSONObject) metrics: Record<string, number>;
  @Field(() => GraphQLJSONObject, { description: "description, intendedUse, limitations" }) card: Record<string, unknown>;
  @Field(() => Date) createdAt: Date;
}

@ObjectType("Model")
export class ModelType {
  @Field(() => ID) id: string;
  @Field(() => ID) projectId: string;
  @Field(() => String) name: string;
  @Field(() => String) description: string;
  @Field(() => Date) createdAt: Date;
}
export const ModelConnection = Connection(ModelType, "Model");

@InputType()
export class ModelCardInput {
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => String, { nullable: true }) intendedUse?: string | null;
  @Field(() => String, { nullable: true }) limitations?: string | null;
}

@InputType()
export class RegisterModelVersionInput {
  @Field(() => ID, { description: "A run that trained a model." }) runId: string;
  @Field(() => String, { description: "Model name; created on first use." }) model: string;
  @Field(() => ModelCardInput, { nullable: true }) card?: ModelCardInput | null;
}
