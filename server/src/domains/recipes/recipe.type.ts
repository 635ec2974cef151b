import { GraphQLJSONObject } from "graphql-scalars";
import { Field, ID, ObjectType } from "type-graphql";
import { Connection } from "../../platform/graphql/connection";

@ObjectType("Recipe", { description: "Ordered transform steps; fitted once, applied identically in batch and per row." })
export class RecipeType {
  @Field(() => ID) id: string;
  @Field(() => ID) projectId: string;
  @Field(() => String) name: string;
  @Field(() => [GraphQLJSONObject]) steps: Record<string, unknown>[];
  @Field(() => GraphQLJSONObject, { nullable: true, description: "What fitting learned; null until fitted." }) fitted: Record<string, unknown> | null;
  @Field(() => ID, { nullable: true }) fittedOnVersionId: string | null;
  @Field(() => ID, { nullable: true, description: "New versions of this dataset are applied automatically." }) autoApplySourceId: string | null;
  @Field(() => ID, { nullable: true, description: "Where automatic applications go." }) autoApplyOutputId: string | null;
  @Field(() => Date) createdAt: Date;
}
export const RecipeConnection = Connection(RecipeType, "Recipe");
