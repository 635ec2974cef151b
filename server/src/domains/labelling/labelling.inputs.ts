import { Field, Float, ID, InputType, Int, registerEnumType } from "type-graphql";

export enum LabelKindEnum {
  classes = "classes",
  multiLabel = "multiLabel",
  numeric = "numeric",
}
registerEnumType(LabelKindEnum, { name: "LabelKind", description: "classes: one class per row; multiLabel: a set of classes; numeric: a number in [min, max]." });

export enum SelectionStrategyEnum {
  random = "random",
  leastConfident = "leastConfident",
  disagreement = "disagreement",
}
registerEnumType(SelectionStrategyEnum, { name: "LabellingSelectionStrategy" });

export enum PredictionRoleEnum {
  primary = "primary",
  shadow = "shadow",
}
registerEnumType(PredictionRoleEnum, { name: "PredictionRole" });

@InputType()
export class PredictionLogSourceInput {
  @Field(() => ID) deploymentId: string;
  @Field(() => Date, { nullable: true, description: "Predictions logged at or after this time." }) from?: Date | null;
  @Field(() => Date, { nullable: true, description: "Predictions logged before this time." }) to?: Date | null;
  @Field(() => PredictionRoleEnum, { nullable: true, description: "primary (default): answers returned to callers; shadow: mirrored versions." }) role?: PredictionRoleEnum | null;
}

@InputType()
export class LabellingSourceInput {
  @Field(() => ID, { nullable: true }) datasetVersionId?: string | null;
  @Field(() => PredictionLogSourceInput, { nullable: true }) predictionLog?: PredictionLogSourceInput | null;
}

@InputType()
export class LabelSchemaInput {
  @Field(() => LabelKindEnum) kind: LabelKindEnum;
  @Field(() => [String], { nullable: true }) classes?: string[] | null;
  @Field(() => Float, { nullable: true }) min?: number | null;
  @Field(() => Float, { nullable: true }) max?: number | null;
}

@InputType()
export class LabellingSelectionInput {
  @Field(() => SelectionStrategyEnum) strategy: SelectionStrategyEnum;
  @Field(() => Int, { nullable: true, description: "Orders the random sample and breaks ties (default 42)." }) seed?: number | null;
  @Field(() => ID, { nullable: true, description: "leastConfident: the model that scores the rows (optional over a prediction log: the logged probabilities are used). disagreement: the model compared with compareColumn." })
  modelVersionId?: string | null;
  @Field(() => ID, { nullable: true, description: "disagreement: an earlier task over the same source; its rows whose labellers disagreed." }) fromTaskId?: string | null;
  @Field(() => String, { nullable: true, description: "disagreement with a model: the source column holding existing labels." }) compareColumn?: string | null;
}

@InputType()
export class CreateLabellingTaskInput {
  @Field(() => ID) projectId: string;
  @Field(() => String) name: string;
  @Field(() => LabellingSourceInput) source: LabellingSourceInput;
  @Field(() => LabelSchemaInput) labelSchema: LabelSchemaInput;
  @Field(() => String, { nullable: true, description: "Column the export writes labels to (default label)." }) labelColumn?: string | null;
  @Field(() => LabellingSelectionInput) selection: LabellingSelectionInput;
  @Field(() => Int, { description: "Rows in the queue (at most 10000)." }) size: number;
  @Field(() => Int, { nullable: true, description: "Labels wanted per row (default 1)." }) labelsPerRow?: number | null;
  @Field(() => [ID], { nullable: true, description: "Who may label; every editor when empty." }) assigneeIds?: string[] | null;
}

@InputType({ description: "Give the one field the task's label kind takes." })
export class LabelValueInput {
  @Field(() => String, { nullable: true, description: "classes" }) class?: string | null;
  @Field(() => [String], { nullable: true, description: "multiLabel (may be empty)" }) classes?: string[] | null;
  @Field(() => Float, { nullable: true, description: "numeric" }) number?: number | null;
}
