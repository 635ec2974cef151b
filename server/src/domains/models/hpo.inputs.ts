import { Field, InputType, Int, registerEnumType } from "type-graphql";

export enum EarlyStoppingEnum {
  none = "none",
  median = "median",
  halving = "halving",
}
registerEnumType(EarlyStoppingEnum, {
  name: "EarlyStopping",
  description: "none; median (stop trials worse than the median of finished ones at the same epoch); halving (successive halving over epoch rungs).",
});

@InputType({ description: "Successive halving: rungs of minEpochs, minEpochs·eta, ... up to the model's epochs; the best 1/eta go on at each rung." })
export class HalvingInput {
  @Field(() => Int, { nullable: true, description: "Default 3." }) eta?: number | null;
  @Field(() => Int, { nullable: true, description: "Epochs of the first rung; default 1." }) minEpochs?: number | null;
}
