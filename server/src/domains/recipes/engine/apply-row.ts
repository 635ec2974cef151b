// The online path: a fitted recipe applied to one row in plain TypeScript. Nothing in
// this file or what it imports loads polars (or zod): a serving replica pays only for a
// few small modules at start-up, and microseconds per row after that.
import { badInput } from "../../../platform/errors";
import { checkFormat, isRowApplicable, type FittedRecipe } from "./fitted";
import { conformRow } from "./row-input";
import { applyStepRow } from "./row-steps";

/**
 * The row after every step, with columns in `fitted.outputSchema` order, or null when a
 * filter, dropNulls or inner join drops it. Dates are ISO strings (see README).
 */
export function applyRow(row: Record<string, unknown>, fitted: FittedRecipe): Record<string, unknown> | null {
  checkFormat(fitted);
  if (!fitted.rowApplicable) {
    const blocking = fitted.steps
      .map((step, index) => ({ step, index }))
      .filter(({ step }) => !isRowApplicable(step))
      .map(({ step, index }) => `step ${index} (${step.op})`);
    throw badInput(
      `this recipe needs other rows and cannot be applied to a single row: ${blocking.join(", ")}`,
      { steps: blocking },
    );
  }
  let values: Map<string, unknown> | null = conformRow(row, fitted.inputSchema);
  for (const step of fitted.steps) {
    values = applyStepRow(values, step);
    if (values === null) return null;
  }
  return Object.fromEntries(values);
}
