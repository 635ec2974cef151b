// The recipe engine's public surface. Serving code should import apply-row directly
// (it loads no polars); everything else may use this index.
export { applyBatch } from "./apply-batch";
export { applyRow } from "./apply-row";
export type { Dtype, Field, InputField, Scalar } from "./dtypes";
export type { Expr } from "./expr";
export { fitAndApply, fitRecipe, type RefResolver } from "./fit";
export type { FittedRecipe, FittedStep } from "./fitted";
export { toRows } from "./polars-types";
export { parseSteps, type RecipeStep, type RecipeStepInput } from "./steps";
