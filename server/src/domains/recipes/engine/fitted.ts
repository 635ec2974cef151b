// What fitting produces: the steps with everything they learned, as plain JSON (it is
// stored in a jsonb column and shipped to serving replicas). Type-only module apart from
// two tiny helpers; the row path imports it, so no polars and no zod here.
import { badInput } from "../../../platform/errors";
import type { CastTarget, Dtype, Field, InputField, Scalar } from "./dtypes";
import type { Expr } from "./expr";
import type { AggSpec, StepOf } from "./steps";
import type { DatePart } from "./values";

export const FORMAT_VERSION = 1;

export interface FittedRecipe {
  formatVersion: typeof FORMAT_VERSION;
  steps: FittedStep[];
  inputSchema: InputField[];
  outputSchema: Field[];
  /** False when a step needs other rows (groupBy, rolling, fillNull "forward"). */
  rowApplicable: boolean;
}

/** One column's fill: the value learned (or given) and the column's type afterwards. */
export interface Fill {
  column: string;
  value: Scalar | null;
  dtype: Dtype;
}

/** A reference table compacted to a lookup: unique keys, and per column the values in key order. */
export interface Lookup {
  keys: Scalar[];
  columns: { name: string; dtype: Dtype; values: (Scalar | null)[] }[];
}

export interface FlatField {
  /** Keys from the top of the JSON object / struct down to the value. */
  path: string[];
  name: string;
  dtype: "float" | "int" | "string" | "bool";
}

export type ResolvedAgg = Required<AggSpec>;

export type FittedStep =
  | StepOf<"select">
  | StepOf<"drop">
  | StepOf<"rename">
  | { op: "cast"; column: string; from: Dtype; to: CastTarget }
  | { op: "filter"; where: Expr }
  | { op: "derive"; column: string; expr: Expr; dtype: Dtype }
  | { op: "fillNull"; strategy: StepOf<"fillNull">["strategy"]; fills: Fill[] }
  | { op: "dropNulls"; columns: string[] }
  | { op: "clip"; column: string; min: number | null; max: number | null; dtype: "float" | "int" }
  | {
      op: "oneHot";
      column: string;
      categories: Scalar[];
      /** Output column per category, same order; then the catch-all for everything else. */
      columns: string[];
      otherColumn: string;
      dropOriginal: boolean;
    }
  | { op: "ordinalEncode"; column: string; categories: Scalar[]; unknown: number }
  | { op: "standardize"; stats: { column: string; mean: number; scale: number }[] }
  | { op: "minMax"; stats: { column: string; min: number; range: number }[] }
  | { op: "bucketize"; column: string; boundaries: number[] }
  | { op: "dateParts"; column: string; parts: DatePart[]; columns: string[] }
  | {
      op: "join";
      /** The dataset version the lookup was read from, kept for lineage. */
      with: string;
      leftOn: string;
      how: "left" | "inner";
      keyDtype: Dtype;
      lookup: Lookup;
    }
  | { op: "groupBy"; by: string[]; aggs: ResolvedAgg[] }
  | { op: "rolling"; entity: string; time: string; window: string; aggs: ResolvedAgg[] }
  | { op: "flattenJson"; column: string; source: "json" | "struct"; fields: FlatField[]; skipped: string[] }
  | {
      op: "textHash";
      column: string;
      buckets: number;
      prefix: string;
      /** Null without tfidf. `values` holds [bucket, idf] for buckets seen in training. */
      idf: { documents: number; unseen: number; values: [number, number][] } | null;
    };

export type FittedOp = FittedStep["op"];
export type FittedOf<K extends FittedOp> = Extract<FittedStep, { op: K }>;

export const isRowApplicable = (step: FittedStep): boolean =>
  step.op !== "groupBy" && step.op !== "rolling" && !(step.op === "fillNull" && step.strategy === "forward");

/** Guards against a stored recipe from an incompatible engine version. */
export function checkFormat(fitted: FittedRecipe): void {
  if (fitted?.formatVersion !== FORMAT_VERSION) {
    throw badInput(`fitted recipe has format version ${String(fitted?.formatVersion)}; this engine reads ${FORMAT_VERSION}`);
  }
}

/** Output column name of one hashed bucket. */
export const bucketColumn = (prefix: string, bucket: number): string => `${prefix}${bucket}`;
