// Learning for the column-wise steps: check the step against the frame it will meet, and
// record the parameters it needs (fill values, categories, means, ranges) in the fitted
// step. Statistics come from the training frame only; applying never re-learns them.
import pl from "nodejs-polars";
import { castAllowed, isNumeric, type Dtype, type Scalar } from "./dtypes";
import { exprColumns } from "./expr";
import { ExprTypeError, inferExprType } from "./expr-types";
import type { Fill, FittedStep } from "./fitted";
import { CATEGORICAL, NUMERIC, SCALAR, type StepContext } from "./fit-context";
import { VALUE } from "./plan";
import { learnFlattenJson, learnGroupBy, learnJoin, learnRolling, learnTextHash } from "./learn-tables";
import { toRowValue } from "./polars-types";
import type { RecipeStep, StepOf } from "./steps";
import { compareValues, parseDateText, parseDatetimeText } from "./values";

const MAX_ORDINAL_CATEGORIES = 100_000;

export function learnStep(step: RecipeStep, ctx: StepContext): FittedStep {
  switch (step.op) {
    case "select":
    case "drop":
      for (const c of step.columns) ctx.column(c);
      return step;
    case "rename": {
      for (const c of Object.keys(step.mapping)) ctx.column(c);
      const renamed = [...ctx.types.keys()].map((c) => (Object.hasOwn(step.mapping, c) ? (step.mapping[c] as string) : c));
      const twice = renamed.find((c, i) => renamed.indexOf(c) !== i);
      if (twice !== undefined) ctx.fail(`two columns would be named "${twice}"`);
      return step;
    }
    case "cast": {
      const from = ctx.column(step.column);
      if (!castAllowed(from, step.to)) ctx.fail(`cannot cast column "${step.column}" from ${from} to ${step.to}`);
      return { op: "cast", column: step.column, from, to: step.to };
    }
    case "filter": {
      const type = typeOf(ctx, step.where, "where");
      if (type !== "bool") ctx.fail(`where must be a true/false expression; it yields ${type}`);
      return step;
    }
    case "derive": {
      const type = typeOf(ctx, step.expr, "expr");
      if (!SCALAR.includes(type as Dtype)) {
        ctx.fail(`expr yields ${type === "null" ? "only nulls" : type}; a column needs a value type`);
      }
      return { op: "derive", column: step.column, expr: step.expr, dtype: type as Dtype };
    }
    case "fillNull":
      return { op: "fillNull", strategy: step.strategy, fills: step.columns.map((c) => learnFill(ctx, step, c)) };
    case "dropNulls": {
      const columns = step.columns ?? [...ctx.types.keys()];
      for (const c of columns) ctx.column(c);
      return { op: "dropNulls", columns };
    }
    case "clip": {
      const dtype = ctx.column(step.column, NUMERIC) as "float" | "int";
      const integral = [step.min, step.max].every((b) => b === undefined || Number.isSafeInteger(b));
      const out = dtype === "int" && integral ? "int" : "float";
      return { op: "clip", column: step.column, min: step.min ?? null, max: step.max ?? null, dtype: out };
    }
    case "oneHot": {
      const dtype = ctx.column(step.column, CATEGORICAL);
      const categories = byFrequency(ctx, step.column, dtype, step.maxCategories);
      const columns = categories.map((c) => `${step.column}_${String(c)}`);
      const otherColumn = `${step.column}__other`;
      ctx.fresh([...columns, otherColumn]);
      return { op: "oneHot", column: step.column, categories, columns, otherColumn, dropOriginal: step.dropOriginal };
    }
    case "ordinalEncode": {
      const dtype = ctx.column(step.column, CATEGORICAL);
      const categories = byFrequency(ctx, step.column, dtype).sort(compareValues);
      if (categories.length > MAX_ORDINAL_CATEGORIES) {
        const many = `column "${step.column}" has ${categories.length} categories; at most ${MAX_ORDINAL_CATEGORIES}`;
        ctx.fail(`${many} (use textHash for free text)`);
      }
      return { op: "ordinalEncode", column: step.column, categories, unknown: step.unknown };
    }
    case "standardize":
      return { op: "standardize", stats: step.columns.map((c) => learnMoments(ctx, c)) };
    case "minMax":
      return { op: "minMax", stats: step.columns.map((c) => learnRange(ctx, c)) };
    case "bucketize":
      ctx.column(step.column, NUMERIC);
      return step;
    case "dateParts": {
      const dtype = ctx.column(step.column, ["date", "datetime"]);
      if (dtype === "date" && step.parts.includes("hour")) ctx.fail(`column "${step.column}" is a date; "hour" needs a datetime`);
      const columns = step.parts.map((p) => `${step.column}_${p}`);
      ctx.fresh(columns);
      return { op: "dateParts", column: step.column, parts: step.parts, columns };
    }
    case "join":
      return learnJoin(ctx, step);
    case "groupBy":
      return learnGroupBy(ctx, step);
    case "rolling":
      return learnRolling(ctx, step);
    case "flattenJson":
      return learnFlattenJson(ctx, step);
    case "textHash":
      return learnTextHash(ctx, step);
  }
}

function typeOf(ctx: StepContext, expr: StepOf<"filter">["where"], key: string) {
  for (const c of exprColumns(expr)) ctx.column(c);
  try {
    return inferExprType(expr, ctx.types);
  } catch (err) {
    if (err instanceof ExprTypeError) ctx.fail(`${key}: ${err.message}`);
    throw err;
  }
}

function learnFill(ctx: StepContext, step: StepOf<"fillNull">, column: string): Fill {
  const dtype = ctx.column(column, step.strategy === "mean" || step.strategy === "median" ? NUMERIC : SCALAR);
  const series = () => ctx.columns(step.columns).getColumn(column);
  const empty = () => ctx.fail(`column "${column}" has no non-null values to learn a ${step.strategy} from`);
  switch (step.strategy) {
    case "forward":
      return { column, value: null, dtype };
    case "constant":
      return constantFill(ctx, column, dtype, step.value as Scalar);
    case "mean":
    case "median": {
      // The fill is a float, so an int column becomes a float column (both paths agree).
      const value = step.strategy === "mean" ? series().mean() : series().median();
      if (value === null || value === undefined || Number.isNaN(value)) empty();
      return { column, value, dtype: "float" };
    }
    case "mode": {
      const value = byFrequency(ctx, column, dtype, 1)[0];
      if (value === undefined) empty();
      return { column, value, dtype };
    }
  }
}

function constantFill(ctx: StepContext, column: string, dtype: Dtype, value: Scalar): Fill {
  const reject = (): never => ctx.fail(`value ${JSON.stringify(value)} does not fit column "${column}" (${dtype})`);
  if (isNumeric(dtype)) {
    if (typeof value !== "number") reject();
    return { column, value, dtype: dtype === "int" && Number.isSafeInteger(value) ? "int" : "float" };
  }
  if (dtype === "date" || dtype === "datetime") {
    const iso = typeof value === "string" ? (dtype === "date" ? parseDateText(value) : parseDatetimeText(value)) : null;
    return { column, value: iso ?? reject(), dtype };
  }
  if (typeof value !== (dtype === "bool" ? "boolean" : "string")) reject();
  return { column, value, dtype };
}

/**
 * Distinct non-null values, most frequent first, ties broken by value (so fits are
 * repeatable); only the `top` first when given. Sorted in polars (a column may have millions
 * of values): it orders text by its UTF-8 bytes, which is code point order as in
 * compareValues, integers by value, and false before true.
 */
function byFrequency(ctx: StepContext, column: string, dtype: Dtype, top?: number): Scalar[] {
  const sorted = ctx.valueCounts(column).sort({ by: ["count", VALUE], descending: [true, false] });
  return (top === undefined ? sorted : sorted.head(top)).getColumn(VALUE).toArray().map((v) => toRowValue(v, dtype) as Scalar);
}

function finiteStats(ctx: StepContext, column: string, names: string[], values: unknown[]): number[] {
  if (values.some((v) => typeof v !== "number" || !Number.isFinite(v))) {
    ctx.fail(`column "${column}" has no values, or NaN/infinite values, so its ${names.join("/")} is undefined`, { column });
  }
  return values as number[];
}

function learnMoments(ctx: StepContext, column: string) {
  ctx.column(column, NUMERIC);
  const x = pl.col(column).cast(pl.Float64);
  const row = ctx.stats(x.mean().alias("mean"));
  const [mean] = finiteStats(ctx, column, ["mean"], row);
  // Population standard deviation (ddof = 0), as scikit-learn's StandardScaler uses.
  const [std] = finiteStats(ctx, column, ["std"], ctx.stats(x.sub(pl.lit(mean)).pow(2).mean().pow(0.5)));
  // A constant column would divide by zero; scale 1 leaves it at 0, like scikit-learn.
  return { column, mean: mean as number, scale: (std as number) > 0 ? (std as number) : 1 };
}

function learnRange(ctx: StepContext, column: string) {
  ctx.column(column, NUMERIC);
  const x = pl.col(column).cast(pl.Float64);
  const [min, max] = finiteStats(ctx, column, ["min", "max"], ctx.stats(x.min(), x.max().alias("max")));
  const range = (max as number) - (min as number);
  return { column, min: min as number, range: range > 0 ? range : 1 };
}
