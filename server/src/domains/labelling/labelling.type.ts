import { GraphQLJSON, GraphQLJSONObject } from "graphql-scalars";
import { Field, Float, ID, Int, ObjectType } from "type-graphql";
import { Connection } from "../../platform/graphql/connection";
import { CursorScalar } from "../../platform/graphql/scalars";
import { LabelKindEnum } from "./labelling.inputs";

@ObjectType("LabelSchema")
export class LabelSchemaType {
  @Field(() => LabelKindEnum) kind: LabelKindEnum;
  @Field(() => [String], { nullable: true }) classes: string[] | null;
  @Field(() => Float, { nullable: true }) min: number | null;
  @Field(() => Float, { nullable: true }) max: number | null;
}

@ObjectType("LabellingTask")
export class LabellingTaskType {
  @Field(() => ID) id: string;
  @Field(() => ID) projectId: string;
  @Field(() => String) name: string;
  @Field(() => GraphQLJSONObject, { description: "{kind: datasetVersion, versionId} or {kind: predictionLog, deploymentId, from, to, role}." }) source: Record<string, unknown>;
  @Field(() => ID, { nullable: true }) sourceVersionId: string | null;
  @Field(() => ID, { nullable: true }) deploymentId: string | null;
  @Field(() => LabelSchemaType) labelSchema: LabelSchemaType;
  @Field(() => String) labelColumn: string;
  @Field(() => GraphQLJSONObject, { description: "The selection as applied, defaults filled in." }) selection: Record<string, unknown>;
  @Field(() => Int) size: number;
  @Field(() => Int) labelsPerRow: number;
  @Field(() => [ID]) assigneeIds: string[];
  @Field(() => String, { description: "building, ready or failed." }) status: string;
  @Field(() => String, { nullable: true }) error: string | null;
  @Field(() => ID, { nullable: true, description: "The job building the queue." }) buildJobId: string | null;
  @Field(() => ID, { nullable: true }) createdById: string | null;
  @Field(() => Date) createdAt: Date;
  @Field(() => Date) updatedAt: Date;
}
export const LabellingTaskConnection = Connection(LabellingTaskType, "LabellingTask");

@ObjectType("Label")
export class LabelType {
  @Field(() => ID) itemId: string;
  @Field(() => ID) userId: string;
  @Field(() => GraphQLJSON, { nullable: true, description: "A class name, a list of class names or a number; null when skipped." }) value: unknown;
  @Field(() => Boolean) skipped: boolean;
  @Field(() => Date) createdAt: Date;
  @Field(() => Date) updatedAt: Date;
}

@ObjectType("LabellingItem")
export class LabellingItemType {
  @Field(() => ID) id: string;
  @Field(() => ID) taskId: string;
  @Field(() => Int, { description: "Place in the queue (0 first)." }) position: number;
  @Field(() => Float, { nullable: true, description: "Row of the source dataset version (0-based)." }) rowIndex: number | null;
  @Field(() => String, { nullable: true, description: "Request id in the prediction log." }) requestId: string | null;
  @Field(() => GraphQLJSONObject, { description: "The row's values when the queue was built." }) values: Record<string, unknown>;
  @Field(() => Float, { nullable: true, description: "What the selection ranked by: the model's top probability (leastConfident, disagreement with a model) or the share of disagreeing answers." }) score: number | null;
  @Field(() => GraphQLJSON, { nullable: true, description: "A model's or the deployment's prediction for the row, as a hint." }) prediction: unknown;
  @Field(() => Int, { description: "Labels given so far (skips excluded)." }) labelCount: number;
  @Field(() => [LabelType], { nullable: true, description: "Every answer (in task item listings; null from nextLabellingItems)." }) labels: LabelType[] | null;
}

@ObjectType("LabellerProgress")
export class LabellerProgressType {
  @Field(() => ID) userId: string;
  @Field(() => Int) labels: number;
  @Field(() => Int) skips: number;
}

@ObjectType("LabellingProgress")
export class LabellingProgressType {
  @Field(() => ID) taskId: string;
  @Field(() => String) status: string;
  @Field(() => Int) totalItems: number;
  @Field(() => Int, { description: "Items with at least one label." }) labelledItems: number;
  @Field(() => Int, { description: "Items with all labelsPerRow labels." }) completedItems: number;
  @Field(() => Float, { description: "completedItems / totalItems (0 while the queue is empty)." }) fraction: number;
  @Field(() => Int) labels: number;
  @Field(() => Int) skips: number;
  @Field(() => [LabellerProgressType]) labellers: LabellerProgressType[];
  @Field(() => CursorScalar, { description: "Pass to labellingProgress(after:) to hear only later changes." }) cursor: string;
}

@ObjectType("LabellerPairAgreement")
export class PairAgreementType {
  @Field(() => ID) userA: string;
  @Field(() => ID) userB: string;
  @Field(() => Int, { description: "Rows both labelled." }) items: number;
  @Field(() => Float, { nullable: true }) percentAgreement: number | null;
  @Field(() => Float, { nullable: true }) cohenKappa: number | null;
}

@ObjectType("LabelClassCount")
export class ClassCountType {
  @Field(() => String) class: string;
  @Field(() => Int, { description: "Answers naming the class." }) labels: number;
  @Field(() => Int, { description: "Rows whose consensus label is (multi-label: includes) the class." }) consensus: number;
}

@ObjectType("LabellingAgreement", { description: "Agreement among labellers, over rows with at least two answers." })
export class AgreementType {
  @Field(() => Int) labelledItems: number;
  @Field(() => Int, { description: "Rows with at least two answers." }) comparedItems: number;
  @Field(() => Int) labellers: number;
  @Field(() => Float, { nullable: true, description: "Mean share of labeller pairs giving the same answer per row (null for numeric labels)." }) percentAgreement: number | null;
  @Field(() => Float, { nullable: true, description: "Fleiss' kappa (class labels)." }) fleissKappa: number | null;
  @Field(() => Float, { nullable: true, description: "Cohen's kappa: the pair's with two labellers, else the mean over pairs weighted by shared rows (class labels)." }) cohenKappa: number | null;
  @Field(() => [PairAgreementType]) pairs: PairAgreementType[];
  @Field(() => [ClassCountType]) classCounts: ClassCountType[];
  @Field(() => Float, { nullable: true, description: "Numeric labels: mean |a − b| between answers on the same row." }) meanAbsoluteDifference: number | null;
}
