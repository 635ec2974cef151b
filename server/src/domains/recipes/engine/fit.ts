// Fitting: run the steps in order on the training data, learning what each needs from the
// data as it stands at that step, then add the fitted step to the lazy plan (plan.ts) so the
// next step learns from exactly what applyBatch would produce. Learners ask the plan only
// for what they need (a mean, value counts), so polars computes those from the columns
// involved; the output is one collect of the whole plan at the end. A oneHot and the groupBy
// that folds it learn from that groupBy's own pass (fitOneHotGroupBy).
import pl, { type DataFrame, type LazyDataFrame } from "nodejs-polars";
import { badInput, OuroError } from "../../../platform/errors";
import type { InputField } from "./dtypes";
import { exprColumns } from "./expr";
import { FORMAT_VERSION, isRowApplicable, type FittedOf, type FittedRecipe, type FittedStep } from "./fitted";
import { CATEGORICAL, StepContext, type RefResolver } from "./fit-context";
import { learnStep } from "./learn";
import { categoryCodes } from "./batch-steps";
import { GROUP, Plan, VALUE, codesPerGroup, countPerGroup, foldOneHot, foldable, foldsWhateverTheCategories, planStep, planSteps } from "./plan";
import { dtypeOf, fieldsOf, normalizeExprs } from "./polars-types";
import type { RecipeStep, StepOf } from "./steps";

export type { RefResolver } from "./fit-context";

/**
 * `nullable`, when the caller knows it (a dataset version records which of its columns hold
 * nulls), saves fitting a pass over every input column to count them.
 */
export interface FitOptions {
  nullable?: Record<string, boolean>;
}

export function fitRecipe(input: DataFrame | LazyDataFrame, steps: RecipeStep[], refs: RefResolver, options: FitOptions = {}): FittedRecipe {
  return fitAndApply(input, steps, refs, options).fitted;
}

/**
 * Fits, and returns beside the fitted recipe the training data transformed by it: the plan
 * fitting builds is applyBatch's plan (same functions, same order, same input types), so a
 * caller that wants both gets the second without another pass over the data. The output is
 * computed in any case: the fitted output schema records which columns hold nulls.
 */
export function fitAndApply(data: DataFrame | LazyDataFrame, steps: RecipeStep[], refs: RefResolver, options: FitOptions = {}): { fitted: FittedRecipe; output: DataFrame } {
  const source = Plan.of(data);
  const input = new Plan(source.lf.select(...normalizeExprs(source.schema)));
  const optional = optionalColumns(steps);
  const inputSchema: InputField[] = inputFields(input, options.nullable).map((f) => ({ ...f, optional: optional.has(f.name) }));
  let plan = input;
  // The output is planned again from the last point where a step materialised the data, so
  // the oneHot + groupBy folding (planSteps) applies and no eager step runs twice.
  let restart = { plan: input, at: 0 };
  const fitted: FittedStep[] = [];
  for (let index = 0; index < steps.length; index++) {
    const step = steps[index] as RecipeStep;
    const next = steps[index + 1];
    if (step.op === "oneHot" && next?.op === "groupBy" && foldsWhateverTheCategories(plan.types, next)) {
      const pair = fitOneHotGroupBy(plan, step, next, index, refs);
      fitted.push(pair.oneHot, pair.groupBy);
      plan = Plan.of(pair.output);
      restart = { plan, at: index + 2 };
      index++;
      continue;
    }
    try {
      const learned = learnStep(step, new StepContext(index, step.op, plan, refs));
      const stepped = planStep(plan, learned);
      // Resolving the schema now makes polars refuse a step here, where the error can name
      // it; a oneHot and the groupBy after it stay unbuilt (the output folds them together).
      if (learned.op !== "oneHot" && learned.op !== "groupBy") void stepped.plan.schema;
      plan = stepped.plan;
      if (stepped.materialized) restart = { plan, at: index + 1 };
      fitted.push(learned);
    } catch (err) {
      throw onData(err, `step ${index} (${step.op})`, { step: index, op: step.op });
    }
  }
  let output: DataFrame;
  try {
    output = planSteps(restart.plan, fitted.slice(restart.at)).collect();
  } catch (err) {
    throw onData(err, "the recipe");
  }
  const recipe: FittedRecipe = {
    formatVersion: FORMAT_VERSION,
    steps: fitted,
    inputSchema,
    outputSchema: fieldsOf(output),
    rowApplicable: fitted.every(isRowApplicable),
  };
  return { fitted: recipe, output };
}

/**
 * A oneHot and the groupBy that folds it (see plan.ts), fitted and applied in one pass: the
 * grouped query counts the raw values of the one-hot column per group, and the oneHot
 * learns its categories from those counts summed over the groups, which are the counts it
 * would otherwise collect in a pass of its own (for a recipe that joins first, the join
 * would run twice). The same counts, by category code, give the folded aggregates.
 */
function fitOneHotGroupBy(plan: Plan, oneHot: StepOf<"oneHot">, groupBy: StepOf<"groupBy">, index: number, refs: RefResolver) {
  const at = (i: number, op: string) => (err: unknown) => onData(err, `step ${i} (${op})`, { step: i, op });
  // The aggregates of columns that exist now are checked (and named) before the data is read.
  const existing = groupBy.aggs.filter((a) => plan.types.has(a.column));
  const checked = attempt(() => learnStep({ ...groupBy, aggs: existing }, new StepContext(index + 1, "groupBy", plan, refs)), at(index + 1, "groupBy")) as FittedOf<"groupBy">;
  const context = new StepContext(index, "oneHot", plan, refs);
  attempt(() => context.column(oneHot.column, CATEGORICAL), at(index, "oneHot"));
  const { grouped, counts } = attempt(() => countPerGroup(plan.lf, checked, oneHot.column, checked.aggs), at(index, "oneHot"));
  // The oneHot's value counts: summed over the groups (in polars: there may be many values).
  const total = counts.filter(pl.col(VALUE).isNotNull()).groupBy(VALUE).agg(pl.col("count").sum());
  const learnedOneHot = attempt(() => learnStep(oneHot, context.knownCounts(oneHot.column, total)), at(index, "oneHot")) as FittedOf<"oneHot">;
  const afterOneHot = planStep(plan, learnedOneHot).plan;
  const learnedGroupBy = attempt(() => learnStep(groupBy, new StepContext(index + 1, "groupBy", afterOneHot, refs)), at(index + 1, "groupBy")) as FittedOf<"groupBy">;
  if (!foldable(learnedOneHot, learnedGroupBy)) throw new Error("internal: a oneHot + groupBy checked as foldable did not fold");
  // The values to category codes as applying maps them, then rows per code per group.
  const codes = categoryCodes(VALUE, plan.types.get(oneHot.column), learnedOneHot.categories, learnedOneHot.categories.length);
  const byCode = counts.select(pl.col(GROUP), codes.alias(VALUE), pl.col("count")).groupBy([GROUP, VALUE]).agg(pl.col("count").sum());
  const output = attempt(() => foldOneHot(grouped, codesPerGroup(byCode, grouped.height), learnedOneHot, learnedGroupBy), at(index + 1, "groupBy"));
  return { oneHot: learnedOneHot, groupBy: learnedGroupBy, output };
}

function attempt<T>(fn: () => T, wrap: (err: unknown) => Error): T {
  try {
    return fn();
  } catch (err) {
    throw wrap(err);
  }
}

/**
 * The input columns with their types and whether they hold nulls: as the caller recorded it
 * when it covers every column, else counted (one pass, null counts only).
 */
function inputFields(input: Plan, known?: Record<string, boolean>): Omit<InputField, "optional">[] {
  const names = [...input.schema.keys()];
  const recorded = known && names.every((n) => typeof known[n] === "boolean");
  const nulls = recorded ? names.map((n) => (known[n] ? 1 : 0)) : names.length > 0 ? input.lf.select(...names.map((n) => pl.col(n).nullCount())).collectSync().row(0) : [];
  return names.map((name, i) => ({ name, dtype: dtypeOf(input.schema.get(name)!), nullable: Number(nulls[i]) > 0 }));
}

/** Anything that is not an OuroError is polars refusing the data; still the user's to fix, so say where. */
function onData(err: unknown, where: string, details: Record<string, unknown> = {}): Error {
  if (err instanceof OuroError) return err;
  return badInput(`${where} failed on the data: ${(err as Error).message}`, details);
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
