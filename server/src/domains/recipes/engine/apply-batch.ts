// The batch path: a fitted recipe applied to a whole frame with polars, using only the
// parameters learned at fit time. Each step is one projection (withColumns / filter /
// join) over the previous frame; see README "Batch" for why this is eager per step.
import type { DataFrame } from "nodejs-polars";
import { applyStepBatch } from "./batch-steps";
import { checkFormat, type FittedRecipe } from "./fitted";
import { conformFrame } from "./polars-types";

/**
 * Applies every step. Joins read the lookup stored in the fitted recipe, never the live
 * reference table, so there is no `refs` argument: batch and row results cannot drift
 * apart when the reference data changes (refit to pick up new reference data).
 */
export function applyBatch(df: DataFrame, fitted: FittedRecipe): DataFrame {
  checkFormat(fitted);
  let out = conformFrame(df, fitted.inputSchema);
  for (const step of fitted.steps) out = applyStepBatch(out, step);
  return out;
}
