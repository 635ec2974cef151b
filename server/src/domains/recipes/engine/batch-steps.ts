// One fitted step applied to a whole frame with polars expressions, using only what the
// step learned. Fitting runs these same functions on the training data after learning
// each step, so "fit then apply" and "apply" can never disagree.
import pl, { type DataFrame, type Expr, type LazyDataFrame } from "nodejs-polars";
import type { Dtype, Scalar } from "./dtypes";
import { compileExpr } from "./expr-polars";
import type { FittedStep } from "./fitted";
import { applyRolling, lazyGroupBy, lazyJoin } from "./batch-reshape";
import { applyTextHash, flattenExprs } from "./batch-text";
import { exprColumns } from "./expr";
import { canonicalCasts, castExpr, columnTypes, plType, type Schema, schemaOf, typedLit, typesOf } from "./polars-types";
import type { DatePart } from "./values";

/**
 * One step on a frame. Steps that polars can run lazily go through lazyStep, so the eager and
 * the lazy path (plan.ts) share one implementation; the rest run eagerly here.
 */
export function applyStepBatch(df: DataFrame, step: FittedStep): DataFrame {
  const lazy = lazyStep(df.lazy(), schemaOf(df), step);
  if (lazy !== null) return lazy.collectSync();
  switch (step.op) {
    case "oneHot":
      return applyOneHot(df, step);
    case "rolling":
      return applyRolling(df, step);
    case "textHash":
      return applyTextHash(df, step);
    default:
      throw new Error(`step ${step.op} has no batch implementation`);
  }
}

/**
 * The step as a lazy query over `lf` (whose schema is `schema`), or null for the steps that
 * need their input materialised: oneHot (polars' toDummies is eager; see plan.ts for when it
 * is folded into a following groupBy instead), rolling and textHash.
 */
export function lazyStep(lf: LazyDataFrame, schema: Schema, step: FittedStep): LazyDataFrame | null {
  const col = (name: string) => pl.col(name);
  const types = typesOf(schema);
  const canonicalFor = (names: string[]) => {
    const casts = canonicalCasts(schema, names);
    return casts.length > 0 ? lf.withColumns(...casts) : lf;
  };
  switch (step.op) {
    case "select":
      return lf.select(...step.columns);
    case "drop":
      return lf.drop(step.columns);
    case "rename":
      return lf.rename(step.mapping);
    case "cast":
      return lf.withColumns(castExpr(col(step.column), step.from, step.to).alias(step.column));
    case "filter":
      return canonicalFor(exprColumns(step.where)).filter(compileExpr(step.where, types));
    case "derive":
      return canonicalFor(exprColumns(step.expr)).withColumns(compileExpr(step.expr, types).cast(plType(step.dtype)).alias(step.column));
    case "fillNull":
      return lf.withColumns(
        ...step.fills.map((fill) =>
          step.strategy === "forward"
            ? col(fill.column).forwardFill().alias(fill.column)
            : col(fill.column).cast(plType(fill.dtype)).fillNull(typedLit(fill.value, fill.dtype)).alias(fill.column),
        ),
      );
    case "dropNulls":
      return lf.dropNulls(step.columns);
    case "clip":
      return lf.withColumns(clipExpr(step.column, step.min, step.max, step.dtype).alias(step.column));
    case "ordinalEncode":
      return lf.withColumns(categoryCodes(step.column, types.get(step.column), step.categories, step.unknown).alias(step.column));
    case "standardize":
      return lf.withColumns(
        ...step.stats.map((s) => col(s.column).cast(pl.Float64).sub(pl.lit(s.mean)).div(pl.lit(s.scale)).alias(s.column)),
      );
    case "minMax":
      return lf.withColumns(
        ...step.stats.map((s) => col(s.column).cast(pl.Float64).sub(pl.lit(s.min)).div(pl.lit(s.range)).alias(s.column)),
      );
    case "bucketize":
      return lf.withColumns(bucketExpr(step.column, step.boundaries, types.get(step.column)).alias(step.column));
    case "dateParts":
      return lf.withColumns(
        ...step.parts.map((part, i) => datePartExpr(col(step.column), part).cast(pl.Int64).alias(step.columns[i] as string)),
      );
    case "join":
      return lazyJoin(lf, schema, step);
    case "groupBy":
      return lazyGroupBy(lf, step);
    case "flattenJson":
      return lf.withColumns(...flattenExprs(step)).drop(step.column);
    case "oneHot":
    case "rolling":
    case "textHash":
      return null;
  }
}

/**
 * oneHot as expressions, one comparison of the category codes per output column: the same
 * columns, values and UInt8 type as applyOneHot, without materialising the input. Slower
 * than toDummies when the columns are computed, so plan.ts uses it only where they may not
 * be (while fitting, for the schema and the learners that read them).
 */
export function lazyOneHot(lf: LazyDataFrame, schema: Schema, step: Extract<FittedStep, { op: "oneHot" }>): LazyDataFrame {
  const codes = categoryCodes(step.column, typesOf(schema).get(step.column), step.categories, step.categories.length);
  const withCodes = lf.withColumns(codes.alias(CODE));
  const onehot = [...step.columns, step.otherColumn].map((name, code) => pl.col(CODE).eq(pl.lit(code)).fillNull(false).cast(pl.UInt8).alias(name));
  const keep = [...schema.keys()].filter((c) => !(step.dropOriginal && c === step.column));
  return withCodes.withColumns(...onehot).select(...keep, ...step.columns, step.otherColumn);
}

export const CODE = "__ouro_code";

/**
 * One 0/1 column per fitted category, in the fitted order, then the catch-all: 1 for a value
 * that is not a fitted category, 0 for null (as the row path does). The columns are UInt8
 * (engine type "int"): 8-byte integers cost 8× the memory and most of the time on wide
 * encodings (52 states × 3M rows: 1.2 GB and ~1 s as Int64), and arithmetic on them reads
 * them as Int64 again (withCanonical), so results do not depend on the narrow type.
 * The category codes are computed once and polars' toDummies splits them in one pass.
 */
function applyOneHot(df: DataFrame, step: Extract<FittedStep, { op: "oneHot" }>): DataFrame {
  const names = [...step.columns, step.otherColumn];
  const dtype = columnTypes(df).get(step.column);
  let dummies: DataFrame;
  let dummyOf: (code: number) => string;
  const extra: Expr[] = [];
  if (dtype === "string") {
    // Text: polars splits the column itself (one column per value present, named
    // column_value); the catch-all is "not null and not a fitted category".
    dummies = df.select(pl.col(step.column)).toDummies(step.column, { separator: "_", dropNulls: true });
    dummyOf = (code) => `${step.column}_${String(step.categories[code])}`;
    const value = pl.col(step.column);
    extra.push(value.isNotNull().and(value.isIn(step.categories as string[]).not()).cast(pl.UInt8).alias(step.otherColumn));
  } else {
    // Ints and booleans: codes first (unseen → the catch-all's code), then split the codes.
    const other = step.categories.length;
    dummies = df.select(categoryCodes(step.column, dtype, step.categories, other).alias(CODE)).toDummies(CODE, { separator: "_", dropNulls: true });
    dummyOf = (code) => `${CODE}_${code}`;
  }
  // Renamed in place, then picked by name: an aliasing select or a cast (even to the type a
  // column already has) copies every column, which on 52 × 3M values is most of the step.
  const present = new Set(dummies.columns);
  const coded = extra.length > 0 ? step.columns : names;
  const renames: Record<string, string> = {};
  coded.forEach((name, code) => present.has(dummyOf(code)) && (renames[dummyOf(code)] = name));
  const found = Object.values(renames);
  const foundSet = new Set(found);
  const absent = coded.filter((name) => !foundSet.has(name)).map((name) => pl.lit(0).cast(pl.UInt8).alias(name));
  // Computed columns first, on the input frame, then the split ones beside them: a
  // withColumns on the wide, differently chunked result costs more than the split itself.
  let out: DataFrame = absent.length + extra.length > 0 ? df.withColumns(...absent, ...extra) : df; // categories this frame lacks; the catch-all
  if (found.length > 0) {
    let split = dummies.rename(renames).select(...found);
    if (split.dtypes.some((t) => !t.equals(pl.UInt8))) split = split.select(...found.map((name) => pl.col(name).cast(pl.UInt8)));
    out = pl.concat([out, split], { how: "horizontal" });
  }
  const keep = step.dropOriginal ? df.columns.filter((c) => c !== step.column) : df.columns;
  return out.select(...keep, ...names);
}

/**
 * Category → code (its index), unseen → `unknown`, null → null. Keys are compared as text
 * (ints and booleans cast to their string form) so one replace works for every key type.
 */
export function categoryCodes(column: string, dtype: Dtype | undefined, categories: Scalar[], unknown: number): Expr {
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
