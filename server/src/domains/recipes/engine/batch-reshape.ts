// Steps that change the shape of a frame: the lookup join (row-applicable: one row in, at
// most one row out) and the two aggregations (not row-applicable: they need other rows).
import pl, { type DataFrame, type Expr, type LazyDataFrame, type Series } from "nodejs-polars";
import type { Dtype } from "./dtypes";
import type { FittedStep, Lookup, ResolvedAgg } from "./fitted";
import { canonicalCasts, castExpr, plType, type Schema } from "./polars-types";

type StepOf<K extends FittedStep["op"]> = Extract<FittedStep, { op: K }>;

const ROW_INDEX = "__ouro_row";

// Building a frame from a 200k-row lookup costs milliseconds; a fitted recipe is usually
// applied to many batches, so keep the frame beside the step object that describes it.
const lookupFrames = new WeakMap<Lookup, DataFrame>();

/**
 * Joins the lookup learned at fit time, never the live reference table: the recipe then
 * gives the same answer in batch, per row, and next month (see README, "Joins"). Lazy: the
 * lookup is a small in-memory frame.
 */
export function lazyJoin(lf: LazyDataFrame, schema: Schema, step: StepOf<"join">): LazyDataFrame {
  const casts = canonicalCasts(schema, [step.leftOn]);
  const input = casts.length > 0 ? lf.withColumns(...casts) : lf;
  if ((step.keyDtype === "string" || step.keyDtype === "int") && step.lookup.keys.length > 0) return lookupByReplace(input, step);
  let lookup = lookupFrames.get(step.lookup);
  if (lookup === undefined) {
    lookup = lookupFrame(step.leftOn, step.keyDtype, step.lookup);
    lookupFrames.set(step.lookup, lookup);
  }
  // The row index restores the input order, which polars does not promise for inner joins.
  return input
    .withRowIndex(ROW_INDEX)
    .join(lookup.lazy(), { on: step.leftOn, how: step.how })
    .sort(ROW_INDEX)
    .drop(ROW_INDEX);
}

/**
 * The same join as a hash lookup per joined column (`replaceStrict` key → value, no match or
 * null key → null): the input's rows stay where they are, so there is no row index to sort
 * back by (on 3M rows that sort cost more than the join itself). Inner joins then drop the
 * rows whose key is not in the lookup. Keys are unique (checked when fitting), so this is
 * exactly the join. Used for string and int keys; other key types take the join above.
 */
function lookupByReplace(input: LazyDataFrame, step: StepOf<"join">): LazyDataFrame {
  const key = pl.col(step.leftOn);
  const keys = step.lookup.keys as (string | number)[];
  const kept = step.how === "inner" ? input.filter(key.isIn(keys)) : input;
  return kept.withColumns(
    ...step.lookup.columns.map((c) => {
      const temporal = c.dtype === "date" || c.dtype === "datetime";
      const value = key.replaceStrict(keys, c.values as unknown as (string | number)[], pl.lit(null), temporal ? pl.Utf8 : plType(c.dtype));
      // Temporal values are ISO strings in the fitted JSON, parsed with the engine's cast.
      return (temporal ? castExpr(value, "string", c.dtype) : value).alias(c.name);
    }),
  );
}

function lookupFrame(keyName: string, keyDtype: Dtype, lookup: Lookup): DataFrame {
  const columns = [
    { name: keyName, dtype: keyDtype, values: lookup.keys },
    ...lookup.columns,
  ];
  const frame = pl.DataFrame(columns.map((c) => seriesOf(c.name, c.dtype, c.values)));
  return frame.select(
    ...columns.map((c) =>
      c.dtype === "date" || c.dtype === "datetime" ? castExpr(pl.col(c.name), "string", c.dtype).alias(c.name) : pl.col(c.name),
    ),
  );
}

/** Temporal values are ISO strings in the fitted JSON; the caller parses them. */
function seriesOf(name: string, dtype: Dtype, values: readonly unknown[]): Series {
  const physical = dtype === "date" || dtype === "datetime" ? pl.Utf8 : plType(dtype);
  return pl.Series(name, values as unknown[], physical);
}

export function aggExpr(agg: ResolvedAgg): Expr {
  const value = pl.col(agg.column);
  const expr = (() => {
    switch (agg.fn) {
      case "count":
        return value.count().cast(pl.Int64); // non-null values
      case "sum":
        return value.sum();
      case "mean":
        return value.mean();
      case "min":
        return value.min();
      case "max":
        return value.max();
      case "std":
        return value.std(); // sample standard deviation (n - 1)
      case "nUnique":
        return value.dropNulls().nUnique().cast(pl.Int64); // distinct non-null values
      case "first":
        return value.first();
      case "last":
        return value.last();
    }
  })();
  return expr.alias(agg.as);
}

/** One row per key combination, sorted by the keys so the output order is reproducible. */
export function lazyGroupBy(lf: LazyDataFrame, step: StepOf<"groupBy">): LazyDataFrame {
  // Groups in any order (the lazy default keeps first-seen order, which costs): the sort
  // by the keys, which are unique per group, fixes it.
  return lf
    .groupBy(step.by, false)
    .agg(...step.aggs.map(aggExpr))
    .sort({ by: step.by, maintainOrder: true });
}

/**
 * Every row keeps its columns and gains the aggregates over the same entity's rows in
 * (time - window, time] — the past, including the row itself. Rows come out sorted by
 * entity then time; rows with a null entity or time have no window and are dropped.
 */
export function applyRolling(df: DataFrame, step: StepOf<"rolling">): DataFrame {
  const sorted = df
    .filter(pl.col(step.entity).isNotNull().and(pl.col(step.time).isNotNull()))
    .sort({ by: [step.entity, step.time], maintainOrder: true });
  const windows = sorted
    .groupByRolling({ indexColumn: step.time, by: step.entity, period: step.window, closed: "right" })
    .agg(step.aggs.map(aggExpr));
  // Polars emits one window per input row, in the sorted input's order.
  if (windows.height !== sorted.height) throw new Error("rolling produced a different number of rows than it read");
  return sorted.withColumns(...step.aggs.map((agg) => windows.getColumn(agg.as)));
}
