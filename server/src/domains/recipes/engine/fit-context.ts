// What a step's learner sees while fitting: the data as it stands before the step (a lazy
// plan: only what the learner asks for is computed, from the columns it needs), its column
// types, the reference resolver, and helpers whose errors name the step, so every message a
// user gets reads "step 3 (standardize): column "sex" is string; …".
import pl, { type DataFrame, type Expr } from "nodejs-polars";
import { badInput } from "../../../platform/errors";
import type { Dtype } from "./dtypes";
import { VALUE, type Plan } from "./plan";

export type RefResolver = (versionId: string) => DataFrame;

/** How often each distinct non-null value occurs: `VALUE` (plan.ts) and `count`. */
export type ValueCounts = DataFrame;

export class StepContext {
  readonly types: Map<string, Dtype>;
  private frames = new Map<string, DataFrame>();
  private counted = new Map<string, ValueCounts>();

  constructor(
    readonly index: number,
    readonly op: string,
    readonly plan: Plan,
    readonly refs: RefResolver,
  ) {
    this.types = plan.types;
  }

  /**
   * The named columns at this step, computed once per step: polars runs the plan up to here
   * for these columns only (a mean of `delay` reads `delay` and nothing else).
   */
  columns(names: readonly string[]): DataFrame {
    const key = JSON.stringify(names);
    let frame = this.frames.get(key);
    if (frame === undefined) this.frames.set(key, (frame = this.plan.lf.select(...names).collectSync()));
    return frame;
  }

  /**
   * The column's distinct non-null values and how often each occurs: counted in the plan
   * (only the distinct values are collected), unless the caller already counted them
   * (`knownCounts`, from a pass it made anyway).
   */
  valueCounts(column: string): ValueCounts {
    let counts = this.counted.get(column);
    if (counts === undefined) {
      counts = this.plan.lf.select(pl.col(column).alias(VALUE)).dropNulls().groupBy(VALUE, false).agg(pl.len().alias("count")).collectSync();
      this.counted.set(column, counts);
    }
    return counts;
  }

  knownCounts(column: string, counts: ValueCounts): this {
    this.counted.set(column, counts);
    return this;
  }

  /** Statistics of the data at this step, in one pass: each expression must give one value. */
  stats(...exprs: Expr[]): unknown[] {
    return this.plan.lf.select(...exprs).collectSync().row(0);
  }

  fail(message: string, details: Record<string, unknown> = {}): never {
    throw badInput(`step ${this.index} (${this.op}): ${message}`, { step: this.index, op: this.op, ...details });
  }

  /** The column's type; fails when it is absent or (given `allowed`) of another type. */
  column(name: string, allowed?: readonly Dtype[], purpose = this.op): Dtype {
    const dtype = this.types.get(name);
    if (dtype === undefined) {
      const known = [...this.types.keys()];
      const shown = known.slice(0, 20).map((c) => `"${c}"`).join(", ") + (known.length > 20 ? ", …" : "");
      this.fail(`column "${name}" does not exist at this step (columns: ${shown})`, { column: name });
    }
    if (allowed !== undefined && !allowed.includes(dtype)) {
      this.fail(`column "${name}" is ${dtype}; ${purpose} needs ${allowed.join(" or ")}`, { column: name, dtype });
    }
    return dtype;
  }

  /** Fails when a column this step would create already exists or is created twice. */
  fresh(names: readonly string[], replacing: readonly string[] = []): void {
    const seen = new Set<string>();
    for (const name of names) {
      if ((this.types.has(name) && !replacing.includes(name)) || seen.has(name)) {
        this.fail(`would create column "${name}", which already exists; rename one of them first`, { column: name });
      }
      seen.add(name);
    }
  }
}

export const NUMERIC: readonly Dtype[] = ["float", "int"];
export const SCALAR: readonly Dtype[] = ["float", "int", "string", "bool", "date", "datetime"];
export const CATEGORICAL: readonly Dtype[] = ["string", "int", "bool"];
