// Fitting: run the steps in order on the training frame, learning what each needs from
// the data as it stands at that step, then apply the fitted step with the batch code so
// the next step learns from exactly what applyBatch would produce.
import type { DataFrame } from "nodejs-polars";
import { badInput, OuroError } from "../../../platform/errors";
import { applyStepBatch } from "./batch-steps";
import type { InputField } from "./dtypes";
import { exprColumns } from "./expr";
import { FORMAT_VERSION, isRowApplicable, type FittedRecipe, type FittedStep } from "./fitted";
import { StepContext, type RefResolver } from "./fit-context";
import { learnStep } from "./learn";
import { fieldsOf, normalizeFrame } from "./polars-types";
import type { RecipeStep } from "./steps";

export type { RefResolver } from "./fit-context";

export function fitRecipe(df: DataFrame, steps: RecipeStep[], refs: RefResolver): FittedRecipe {
  return fitAndApply(df, steps, refs).fitted;
}

/**
 * Fits, and returns beside the fitted recipe the training frame transformed by it. Fitting
 * applies each learned step to learn the next one, so at the end it holds exactly what
 * applyBatch(df, fitted) would compute (same functions, same order, same input types): a
 * caller that wants both gets the second for free instead of a second pass over the data.
 */
export function fitAndApply(df: DataFrame, steps: RecipeStep[], refs: RefResolver): { fitted: FittedRecipe; output: DataFrame } {
  const input = normalizeFrame(df);
  const optional = optionalColumns(steps);
  const inputSchema: InputField[] = fieldsOf(input).map((f) => ({ ...f, optional: optional.has(f.name) }));
  let current = input;
  const fitted = steps.map((step, index): FittedStep => {
    const ctx = new StepContext(index, step.op, current, refs);
    try {
      const learned = learnStep(step, ctx);
      current = applyStepBatch(current, learned);
      return learned;
    } catch (err) {
      if (err instanceof OuroError) throw err;
      // Anything else is polars refusing the data; still the user's to fix, so say where.
      throw badInput(`step ${index} (${step.op}) failed on the data: ${(err as Error).message}`, { step: index, op: step.op });
    }
  });
  const recipe: FittedRecipe = {
    formatVersion: FORMAT_VERSION,
    steps: fitted,
    inputSchema,
    outputSchema: fieldsOf(current),
    rowApplicable: fitted.every(isRowApplicable),
  };
  return { fitted: recipe, output: current };
}

/**
 * Input columns that may be missing at apply time: those whose first mention in the
 * recipe is a fillNull (it will give them a value anyway). Every other input column is
 * required, and a row or frame without it is rejected with the missing names.
 */
function optionalColumns(steps: RecipeStep[]): Set<string> {
  const firstUse = new Map<string, string>();
  for (const step of steps) {
    const used = columnsUsed(step);
    if (used === "all") break; // a step reading every column is the first use of the rest
    for (const c of used) if (!firstUse.has(c)) firstUse.set(c, step.op);
  }
  return new Set([...firstUse].filter(([, op]) => op === "fillNull").map(([c]) => c));
}

function columnsUsed(step: RecipeStep): string[] | "all" {
  switch (step.op) {
    case "select":
    case "drop":
    case "fillNull":
    case "standardize":
    case "minMax":
      return step.columns;
    case "rename":
      return Object.keys(step.mapping);
    case "filter":
      return exprColumns(step.where);
    case "derive":
      return [...exprColumns(step.expr), step.column];
    case "dropNulls":
      return step.columns ?? "all";
    case "join":
      return [typeof step.on === "string" ? step.on : step.on.left];
    case "groupBy":
      return "all"; // every other column is consumed by the aggregation
    case "rolling":
      return [step.entity, step.time, ...step.aggs.map((a) => a.column)];
    default:
      return [step.column];
  }
}
