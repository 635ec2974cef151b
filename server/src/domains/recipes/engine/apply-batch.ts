// The batch path: a fitted recipe applied to a whole frame with polars, using only the
// parameters learned at fit time, as one lazy query (plan.ts): for a scanned Parquet file,
// polars reads only the columns the recipe uses and collects once.
import type { DataFrame, LazyDataFrame } from "nodejs-polars";
import { checkFormat, type FittedRecipe } from "./fitted";
import { Plan, planSteps } from "./plan";
import { conformExprs } from "./polars-types";

/**
 * Applies every step. Joins read the lookup stored in the fitted recipe, never the live
 * reference table, so there is no `refs` argument: batch and row results cannot drift
 * apart when the reference data changes (refit to pick up new reference data).
 */
export function applyBatch(input: DataFrame | LazyDataFrame, fitted: FittedRecipe): DataFrame {
  return planBatch(input, fitted).collect();
}

/** The recipe as a lazy plan over `input`, not yet run. */
export function planBatch(input: DataFrame | LazyDataFrame, fitted: FittedRecipe): Plan {
  checkFormat(fitted);
  const source = Plan.of(input);
  return planSteps(new Plan(source.lf.select(...conformExprs(source.schema, fitted.inputSchema))), fitted.steps);
}
