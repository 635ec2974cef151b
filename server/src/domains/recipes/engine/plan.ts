// The batch path as one lazy polars query: the recipe's steps are chained on a LazyFrame
// (pl.scanParquet for a file), so polars reads only the columns the recipe needs
// (projection pushdown), keeps no intermediate frame per step, and runs the whole plan at
// one collect. Steps polars cannot express lazily (see lazyStep) materialise the plan at
// that point and the query continues from the result.
import pl, { type DataFrame, type DataType, type LazyDataFrame } from "nodejs-polars";
import type { Dtype } from "./dtypes";
import { CODE, applyStepBatch, categoryCodes, lazyOneHot, lazyStep } from "./batch-steps";
import { aggExpr } from "./batch-reshape";
import type { FittedOf, FittedStep } from "./fitted";
import { isLazy, type Schema, schemaOf, typesOf } from "./polars-types";


/**
 * A lazy query and its schema. Both are worked out when first asked for: building polars
 * expressions costs milliseconds each through the bindings, and a plan whose columns no one
 * reads (a oneHot that a groupBy then folds in) need never be built.
 */
export class Plan {
  private built: LazyDataFrame | undefined;
  private known: Schema | undefined;

  constructor(build: LazyDataFrame | (() => LazyDataFrame), schema?: Schema) {
    if (typeof build === "function") this.build = build;
    else this.built = build;
    this.known = schema;
  }

  private build?: () => LazyDataFrame;

  static of(frame: DataFrame | LazyDataFrame): Plan {
    return isLazy(frame) ? new Plan(frame) : new Plan(frame.lazy(), schemaOf(frame));
  }

  get lf(): LazyDataFrame {
    return (this.built ??= (this.build as () => LazyDataFrame)());
  }

  get schema(): Schema {
    return (this.known ??= schemaOf(this.lf));
  }

  get types(): Map<string, Dtype> {
    return typesOf(this.schema);
  }

  collect(): DataFrame {
    return this.lf.collectSync();
  }
}

/** The columns oneHot leaves: the input's (without the source unless kept), then the 0/1 columns as UInt8. */
function oneHotSchema(input: Schema, step: FittedOf<"oneHot">): Schema {
  const out: Schema = new Map([...input].filter(([name]) => !(step.dropOriginal && name === step.column)));
  for (const name of [...step.columns, step.otherColumn]) out.set(name, pl.UInt8);
  return out;
}

/** A plan after some steps; `materialized` when a step had to run eagerly (its result is the plan's source). */
export interface Stepped {
  plan: Plan;
  materialized: boolean;
}

/**
 * One step added to the plan while fitting, where the next step is not known yet: oneHot
 * stays lazy (expressions), since its columns are computed only if a later learner reads them.
 */
export function planStep(plan: Plan, step: FittedStep): Stepped {
  if (step.op === "oneHot") return { plan: new Plan(() => lazyOneHot(plan.lf, plan.schema, step), oneHotSchema(plan.schema, step)), materialized: false };
  if (step.op === "rolling" || step.op === "textHash") return { plan: Plan.of(applyStepBatch(plan.collect(), step)), materialized: true };
  return { plan: new Plan(() => lazyStep(plan.lf, plan.schema, step) as LazyDataFrame), materialized: false };
}

/**
 * Every step, for the output. A oneHot that a groupBy then aggregates is folded into it (see
 * oneHotGroupBy); any other oneHot materialises the plan and uses polars' one-pass toDummies.
 */
export function planSteps(start: Plan, steps: FittedStep[]): Plan {
  let plan = start;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i] as FittedStep;
    const next = steps[i + 1];
    if (step.op === "oneHot" && next?.op === "groupBy" && foldable(step, next)) {
      plan = Plan.of(oneHotGroupBy(plan, step, next));
      i++;
      continue;
    }
    const lazy = lazyStep(plan.lf, plan.schema, step);
    plan = lazy !== null ? new Plan(lazy) : Plan.of(applyStepBatch(plan.collect(), step));
  }
  return plan;
}

// Aggregates of a 0/1 (UInt8) column that follow from how many rows of the group have the
// category, with the types polars gives them on the unfolded column (the tests compare).
const FOLDED_TYPES: Record<string, DataType> = { max: pl.UInt8, min: pl.UInt8, sum: pl.Int64, mean: pl.Float64, count: pl.Int64, nUnique: pl.Int64 };
const FROM_COUNTS = new Set(Object.keys(FOLDED_TYPES));

export function foldable(oneHot: FittedOf<"oneHot">, groupBy: FittedOf<"groupBy">): boolean {
  const made = new Set([...oneHot.columns, oneHot.otherColumn]);
  return !groupBy.by.some((c) => made.has(c)) && groupBy.aggs.every((a) => !made.has(a.column) || FROM_COUNTS.has(a.fn));
}

/**
 * Before fitting: whether a oneHot and the groupBy after it will fold, whatever categories
 * the oneHot learns. The groupBy's keys are columns that exist already (so not one-hot
 * columns), and every aggregate of a column that does not exist yet (a one-hot column, or
 * a mistake the groupBy's fitting reports) follows from counts.
 */
export function foldsWhateverTheCategories(types: Map<string, Dtype>, groupBy: { by: string[]; aggs: { column: string; fn: string }[] }): boolean {
  return groupBy.by.every((c) => types.has(c)) && groupBy.aggs.every((a) => types.has(a.column) || FROM_COUNTS.has(a.fn));
}

const COUNTS = "__ouro_counts";
/** In countPerGroup's counts: the group's row number in `grouped`. */
export const GROUP = "__ouro_group";
/**
 * Value counts name the counted values so and their counts `count`, whatever the column is
 * called (polars refuses to count a column named "count" under its own name).
 */
export const VALUE = "__ouro_value";

/**
 * The groupBy's other aggregates (one row per group, unsorted: the folding sorts), and in
 * the same pass how many rows of each group hold each value of `counted`, flat: one row per
 * (group, value) with `GROUP`, the value as `VALUE` and `count` (nulls included).
 */
export function countPerGroup(lf: LazyDataFrame, groupBy: FittedOf<"groupBy">, counted: string, aggs: FittedOf<"groupBy">["aggs"]): { grouped: DataFrame; counts: DataFrame } {
  const grouped = lf.groupBy(groupBy.by, false).agg(...aggs.map(aggExpr), pl.col(counted).alias(VALUE).valueCounts().alias(COUNTS)).collectSync();
  const counts = grouped.select(COUNTS).withRowIndex(GROUP).explode(COUNTS).unnest(COUNTS);
  return { grouped: grouped.drop(COUNTS), counts };
}

/** Per group: rows per category code, and its row count (a null code counts towards that only). */
export interface GroupCodes {
  byCode: Map<number, number>;
  rows: number;
}

/** countPerGroup's counts of category codes (`VALUE`), per group of the `groups` it made. */
export function codesPerGroup(counts: DataFrame, groups: number): GroupCodes[] {
  const out = Array.from({ length: groups }, (): GroupCodes => ({ byCode: new Map(), rows: 0 }));
  const group = counts.getColumn(GROUP).toArray() as number[];
  const codes = counts.getColumn(VALUE).toArray() as (number | bigint | null)[];
  const n = counts.getColumn("count").toArray() as (number | bigint)[];
  for (let i = 0; i < group.length; i++) {
    const entry = out[Number(group[i])] as GroupCodes;
    const rows = Number(n[i]);
    entry.rows += rows;
    const c = codes[i];
    if (c !== null && c !== undefined) entry.byCode.set(Number(c), (entry.byCode.get(Number(c)) ?? 0) + rows);
  }
  return out;
}

/**
 * oneHot then groupBy without the one-hot columns: for 52 categories × 3M rows, computing
 * them and aggregating each per group is most of such a recipe's time. The groupBy instead
 * counts each group's category codes (one pass over one integer column), and each one-hot
 * aggregate follows from the count n of the category and the group's row count N (see
 * foldOneHot). Types are those the unfolded query gives, and a test checks the result
 * equals oneHot then groupBy step by step.
 */
function oneHotGroupBy(plan: Plan, oneHot: FittedOf<"oneHot">, groupBy: FittedOf<"groupBy">): DataFrame {
  const made = new Set([...oneHot.columns, oneHot.otherColumn]);
  const codes = categoryCodes(oneHot.column, plan.types.get(oneHot.column), oneHot.categories, oneHot.categories.length);
  const others = groupBy.aggs.filter((a) => !made.has(a.column));
  const { grouped, counts } = countPerGroup(plan.lf.withColumns(codes.alias(CODE)), groupBy, CODE, others);
  return foldOneHot(grouped, codesPerGroup(counts, grouped.height), oneHot, groupBy);
}

/**
 * The groupBy's output from its other aggregates (`grouped`) and, per group, the rows per
 * category code (code i is category i, the last the other column's): each one-hot aggregate
 * follows from the count n of its category and the group's row count N:
 * max = n > 0, min = n = N, sum = n, mean = n / N, count = N, nUnique = (n > 0) + (n < N).
 */
export function foldOneHot(grouped: DataFrame, counts: GroupCodes[], oneHot: FittedOf<"oneHot">, groupBy: FittedOf<"groupBy">): DataFrame {
  const codeOf = new Map([...oneHot.columns, oneHot.otherColumn].map((name, code) => [name, code]));
  const folded = groupBy.aggs
    .filter((a) => codeOf.has(a.column))
    .map((agg) => {
      const code = codeOf.get(agg.column) as number;
      const values = counts.map(({ byCode, rows }) => {
        const n = byCode.get(code) ?? 0;
        switch (agg.fn) {
          case "max":
            return n > 0 ? 1 : 0;
          case "min":
            return n === rows ? 1 : 0;
          case "sum":
            return n;
          case "mean":
            return n / rows;
          case "count":
            return rows;
          default: // nUnique
            return (n > 0 ? 1 : 0) + (n < rows ? 1 : 0);
        }
      });
      return pl.Series(agg.as, values, FOLDED_TYPES[agg.fn]);
    });
  const out = folded.length > 0 ? (grouped.hstack(folded) as unknown as DataFrame) : grouped;
  return out.select(...groupBy.by, ...groupBy.aggs.map((a) => a.as)).sort({ by: groupBy.by, maintainOrder: true });
}
