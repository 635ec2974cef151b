import { GraphQLJSONObject } from "graphql-scalars";
import { Field, ID, InputType, ObjectType } from "type-graphql";
import { Connection } from "../../platform/graphql/connection";

@ObjectType("FeatureSet")
export class FeatureSetType {
  @Field(() => ID) id: string;
  @Field(() => ID) projectId: string;
  @Field(() => String) name: string;
  @Field(() => [String]) entityKeys: string[];
  @Field(() => String, { nullable: true }) timestampColumn: string | null;
  @Field(() => [String], { description: "Feature columns (known after the first materialization if not given)." }) features: string[];
  @Field(() => ID, { nullable: true }) sourceDatasetId: string | null;
  @Field(() => ID, { nullable: true }) sourceVersionId: string | null;
  @Field(() => ID, { nullable: true }) recipeId: string | null;
  @Field(() => ID, { nullable: true, description: "The offline store: a dataset of Parquet versions." }) offlineDatasetId: string | null;
  @Field(() => ID, { nullable: true }) materializedVersionId: string | null;
  @Field(() => Date, { nullable: true }) materializedAt: Date | null;
  @Field(() => Boolean) autoMaterialize: boolean;
  @Field(() => Date) createdAt: Date;
}
export const FeatureSetConnection = Connection(FeatureSetType, "FeatureSet");

@ObjectType("OnlineFeatures")
export class OnlineFeaturesType {
  @Field(() => String, { description: "Entity key (a JSON array for composite keys)." }) key: string;
  @Field(() => GraphQLJSONObject, { nullable: true, description: "Null when the entity is unknown." }) values: Record<string, unknown> | null;
  @Field(() => Date, { nullable: true }) eventTime: Date | null;
}

@InputType()
export class CreateFeatureSetInput {
  @Field(() => ID) projectId: string;
  @Field(() => String, { description: "Lowercase letters, digits and _; prefixes feature columns in training sets." }) name: string;
  @Field(() => ID) sourceDatasetId: string;
  @Field(() => ID, { nullable: true, description: "Pin a source version; the latest is used if omitted." }) sourceVersionId?: string | null;
  @Field(() => ID, { nullable: true, description: "A fitted recipe applied before selecting features." }) recipeId?: string | null;
  @Field(() => [String]) entityKeys: string[];
  @Field(() => String, { nullable: true, description: "Event time; needed for point-in-time training sets." }) timestampColumn?: string | null;
  @Field(() => [String], { nullable: true, description: "All other columns if omitted." }) features?: string[] | null;
  @Field(() => Boolean, { nullable: true, description: "Re-materialize when the source dataset gets a new version." }) autoMaterialize?: boolean | null;
}
