// One fitted step applied to a whole frame with polars expressions, using only what the
// step learned. Fitting runs these same functions on the training data after learning
// each step, so "fit then apply" and "apply" can never disagree.
import pl, { type DataFrame, type Expr } from "nodejs-polars";
import type { Dtype, Scalar } from "./dtypes";
import { compileExpr } from "./expr-polars";
import type { FittedStep } from "./fitted";
import { applyGroupBy, applyJoin, applyRolling } from "./batch-reshape";
import { applyFlattenJson, applyTextHash } from "./batch-text";
import { castExpr, columnTypes, plType, typedLit } from "./polars-types";
import type { DatePart } from "./values";

export function applyStepBatch(df: DataFrame, step: FittedStep): DataFrame {
  const col = (name: string) => pl.col(name);
  switch (step.op) {
    case "select":
      return df.select(...step.columns);
    case "drop":
      return df.drop(step.columns);
    case "rename":
      return df.rename(step.mapping);
    case "cast":
      return df.withColumns(castExpr(col(step.column), step.from, step.to).alias(step.column));
    case "filter":
      return df.filter(compileExpr(step.where, columnTypes(df)));
    case "derive":
      return df.withColumns(compileExpr(step.expr, columnTypes(df)).cast(plType(step.dtype)).alias(step.column));
    case "fillNull":
      return df.withColumns(
        ...step.fills.map((fill) =>
          step.strategy === "forward"
            ? col(fill.column).forwardFill().alias(fill.column)
            : col(fill.column).cast(plType(fill.dtype)).fillNull(typedLit(fill.value, fill.dtype)).alias(fill.column),
        ),
      );
    case "dropNulls":
      return df.dropNulls(step.columns);
    case "clip":
      return df.withColumns(clipExpr(step.column, step.min, step.max, step.dtype).alias(step.column));
    case "oneHot": {
      const codes = categoryCodes(step.column, columnTypes(df).get(step.column), step.categories, -1);
      const out = df.withColumns(
        ...step.columns.map((name, i) => codes.eq(pl.lit(i)).fillNull(false).cast(pl.Int64).alias(name)),
        col(step.column).isNotNull().and(codes.eq(pl.lit(-1))).cast(pl.Int64).alias(step.otherColumn),
      );
      return step.dropOriginal ? out.drop(step.column) : out;
    }
    case "ordinalEncode": {
      const codes = categoryCodes(step.column, columnTypes(df).get(step.column), step.categories, step.unknown);
      return df.withColumns(codes.alias(step.column));
    }
    case "standardize":
      return df.withColumns(
        ...step.stats.map((s) =>
          col(s.column).cast(pl.Float64).sub(pl.lit(s.mean)).div(pl.lit(s.scale)).alias(s.column),
        ),
      );
    case "minMax":
      return df.withColumns(
        ...step.stats.map((s) => col(s.column).cast(pl.Float64).sub(pl.lit(s.min)).div(pl.lit(s.range)).alias(s.column)),
      );
    case "bucketize":
      return df.withColumns(bucketExpr(step.column, step.boundaries, columnTypes(df).get(step.column)).alias(step.column));
    case "dateParts":
      return df.withColumns(
        ...step.parts.map((part, i) => datePartExpr(col(step.column), part).cast(pl.Int64).alias(step.columns[i] as string)),
      );
    case "join":
      return applyJoin(df, step);
    case "groupBy":
      return applyGroupBy(df, step);
    case "rolling":
      return applyRolling(df, step);
    case "flattenJson":
      return applyFlattenJson(df, step);
    case "textHash":
      return applyTextHash(df, step);
  }
}

/**
 * Category → code (its index), unseen → `unknown`, null → null. Keys are compared as text
 * (ints and booleans cast to their string form) so one replace works for every key type.
 */
function categoryCodes(column: string, dtype: Dtype | undefined, categories: Scalar[], unknown: number): Expr {
  const key = dtype === "string" ? pl.col(column) : pl.col(column).cast(pl.Utf8);
  const codes = key.replaceStrict(
    categories.map(String),
    categories.map((_, i) => i),
    unknown,
    pl.Int64,
  );
  return pl.when(pl.col(column).isNull()).then(pl.lit(null).cast(pl.Int64)).otherwise(codes);
}

/** Values below min → min, above max → max; null stays null and NaN stays NaN. */
function clipExpr(column: string, min: number | null, max: number | null, dtype: "float" | "int"): Expr {
  const value = pl.col(column).cast(plType(dtype));
  const bound = (b: number) => typedLit(b, dtype);
  // Polars orders NaN above every number, so without this guard NaN would become max.
  let chain = dtype === "float" ? pl.when(value.isNan()).then(value) : null;
  const branch = (cond: Expr, then: Expr) => (chain === null ? pl.when(cond).then(then) : chain.when(cond).then(then));
  if (min !== null) chain = branch(value.lt(bound(min)), bound(min));
  if (max !== null) chain = branch(value.gt(bound(max)), bound(max));
  return (chain as NonNullable<typeof chain>).otherwise(value);
}

/** Bucket i holds boundaries[i-1] <= x < boundaries[i]: the count of boundaries <= x. */
function bucketExpr(column: string, boundaries: number[], dtype: Dtype | undefined): Expr {
  const value = pl.col(column);
  const count = boundaries.reduce<Expr>(
    (sum, b) => sum.add(value.gtEq(pl.lit(b)).cast(pl.Int64)),
    pl.lit(0).cast(pl.Int64),
  );
  // NaN has no bucket (polars would count it above every boundary).
  return dtype === "float" ? pl.when(value.isNan()).then(pl.lit(null).cast(pl.Int64)).otherwise(count) : count;
}

function datePartExpr(value: Expr, part: DatePart): Expr {
  switch (part) {
    case "year":
      return value.dt.year();
    case "month":
      return value.dt.month();
    case "day":
      return value.dt.day();
    case "weekday":
      return value.dt.weekday();
    case "hour":
      return value.dt.hour();
    case "dayOfYear":
      return value.dt.ordinalDay();
  }
}
