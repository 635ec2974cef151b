// Learning for the steps that bring in or reshape tables: the join lookup, the two
// aggregations, JSON flattening and text hashing.
import pl, { type DataType } from "nodejs-polars";
import { OuroError } from "../../../platform/errors";
import type { Dtype, Scalar } from "./dtypes";
import { bucketColumn, type FittedOf, type FlatField, type ResolvedAgg } from "./fitted";
import { NUMERIC, SCALAR, type StepContext } from "./fit-context";
import { dtypeOf, normalizeFrame, toRowValue } from "./polars-types";
import type { AggSpec, StepOf } from "./steps";
import { hashCounts, smoothIdf } from "./text";


export const MAX_LOOKUP_ROWS = 200_000;
const MAX_FLAT_FIELDS = 500;
const MAX_FLAT_DEPTH = 5;
const KEY_TYPES: readonly Dtype[] = ["string", "int", "bool", "date", "datetime"];
const ORDERABLE: readonly Dtype[] = ["float", "int", "string", "date", "datetime"];

export function learnJoin(ctx: StepContext, step: StepOf<"join">): FittedOf<"join"> {
  const leftOn = typeof step.on === "string" ? step.on : step.on.left;
  const rightOn = typeof step.on === "string" ? step.on : step.on.right;
  const keyDtype = ctx.column(leftOn, KEY_TYPES, "a join key");
  let reference;
  try {
    reference = normalizeFrame(ctx.refs(step.with));
  } catch (err) {
    if (err instanceof OuroError) ctx.fail(`reference ${step.with}: ${err.message}`);
    throw err;
  }
  const refTypes = new Map(reference.getColumns().map((s) => [s.name, dtypeOf(s.dtype)]));
  const refKey = refTypes.get(rightOn);
  if (refKey === undefined) ctx.fail(`reference ${step.with} has no column "${rightOn}"`);
  if (refKey !== keyDtype) ctx.fail(`join keys differ in type: "${leftOn}" is ${keyDtype}, reference "${rightOn}" is ${refKey}`);
  const columns = step.columns ?? [...refTypes.keys()].filter((c) => c !== rightOn);
  for (const c of columns) {
    const dtype = refTypes.get(c);
    if (dtype === undefined) ctx.fail(`reference ${step.with} has no column "${c}"`);
    if (!SCALAR.includes(dtype)) ctx.fail(`reference column "${c}" is ${dtype}; only scalar columns can be joined`);
  }
  ctx.fresh(columns);

  // Null keys never match, so they need no room in the lookup.
  const table = reference.select(rightOn, ...columns).filter(pl.col(rightOn).isNotNull());
  if (table.height > MAX_LOOKUP_ROWS) {
    ctx.fail(`reference ${step.with} has ${table.height} rows; a join lookup holds at most ${MAX_LOOKUP_ROWS}`);
  }
  const keys = table.getColumn(rightOn).toArray().map((k) => toRowValue(k, keyDtype) as Scalar);
  const seen = new Set<Scalar>();
  for (const key of keys) {
    if (seen.has(key)) ctx.fail(`reference key "${rightOn}" repeats (${JSON.stringify(key)}); a lookup needs unique keys`);
    seen.add(key);
  }
  return {
    op: "join",
    with: step.with,
    leftOn,
    how: step.how,
    keyDtype,
    lookup: {
      keys,
      columns: columns.map((name) => {
        const dtype = refTypes.get(name) as Dtype;
        const values = table.getColumn(name).toArray().map((v) => toRowValue(v, dtype) as Scalar | null);
        return { name, dtype, values };
      }),
    },
  };
}

/** Checks each aggregate against its column's type and gives it an output name. */
function resolveAggs(ctx: StepContext, aggs: AggSpec[], suffix: string): ResolvedAgg[] {
  return aggs.map((agg) => {
    const numericOnly = agg.fn === "sum" || agg.fn === "mean" || agg.fn === "std";
    const orderable = agg.fn === "min" || agg.fn === "max";
    const allowed: readonly Dtype[] = numericOnly ? NUMERIC : orderable ? ORDERABLE : SCALAR;
    ctx.column(agg.column, allowed, `aggregate "${agg.fn}"`);
    return { column: agg.column, fn: agg.fn, as: agg.as ?? `${agg.column}_${agg.fn}${suffix}` };
  });
}

export function learnGroupBy(ctx: StepContext, step: StepOf<"groupBy">): FittedOf<"groupBy"> {
  for (const c of step.by) ctx.column(c, SCALAR, "a group key");
  const aggs = resolveAggs(ctx, step.aggs, "");
  const names = [...step.by, ...aggs.map((a) => a.as)];
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice !== undefined) ctx.fail(`two output columns would be named "${twice}"; give aggregates distinct "as" names`);
  return { op: "groupBy", by: step.by, aggs };
}

export function learnRolling(ctx: StepContext, step: StepOf<"rolling">): FittedOf<"rolling"> {
  ctx.column(step.entity, SCALAR, "an entity key");
  ctx.column(step.time, ["date", "datetime"], "a rolling window");
  const aggs = resolveAggs(ctx, step.aggs, `_${step.window}`);
  ctx.fresh(aggs.map((a) => a.as));
  return { op: "rolling", entity: step.entity, time: step.time, window: step.window, aggs };
}

type Kind = FlatField["dtype"] | "object" | "mixed";

export function learnFlattenJson(ctx: StepContext, step: StepOf<"flattenJson">): FittedOf<"flattenJson"> {
  const dtype = ctx.column(step.column, ["string", "struct"], "flattenJson");
  const kinds = new Map<string, { path: string[]; kind: Kind }>();
  const note = (path: string[], kind: Kind) => {
    const key = JSON.stringify(path);
    const known = kinds.get(key);
    if (known === undefined) kinds.set(key, { path, kind });
    else if (known.kind !== kind) known.kind = "mixed";
  };
  if (dtype === "string") {
    // unique(true) keeps first-seen order, so refitting the same data gives the same columns.
    const texts = ctx.columns([step.column]).getColumn(step.column).dropNulls().unique(true).toArray() as string[];
    for (const text of texts) {
      const parsed = parseObject(text);
      if (parsed !== null) scanJson(parsed, [], note);
    }
  } else {
    scanStruct(ctx.plan.schema.get(step.column) as DataType, [], note);
  }
  const prefix = step.prefix ?? `${step.column}_`;
  const fields: FlatField[] = [];
  const skipped: string[] = [];
  for (const { path, kind } of kinds.values()) {
    const parentsOk = path.every((_, i) => i === 0 || kinds.get(JSON.stringify(path.slice(0, i)))?.kind === "object");
    if (kind === "object" || !parentsOk) continue;
    // Mixed types, arrays, too-deep values and keys JSONPath would need to escape have no
    // single meaning in both paths, so they are left out and listed in `skipped`.
    if (kind === "mixed" || path.some((k) => /['\\\]]/.test(k))) skipped.push(path.join("."));
    else fields.push({ path, name: prefix + path.join("_"), dtype: kind });
  }
  if (fields.length > MAX_FLAT_FIELDS) {
    ctx.fail(`column "${step.column}" would flatten to ${fields.length} columns; at most ${MAX_FLAT_FIELDS}`);
  }
  if (fields.length === 0) ctx.fail(`column "${step.column}" holds no JSON object with scalar values`);
  ctx.fresh(fields.map((f) => f.name));
  if (fields.some((f) => f.name === step.column)) ctx.fail(`a flattened column would replace "${step.column}"; set a prefix`);
  return { op: "flattenJson", column: step.column, source: dtype === "string" ? "json" : "struct", fields, skipped };
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function scanJson(node: Record<string, unknown>, path: string[], note: (path: string[], kind: Kind) => void): void {
  for (const [key, value] of Object.entries(node)) {
    const at = [...path, key];
    if (value === null) continue; // says nothing about the type
    if (typeof value === "number") note(at, "float");
    else if (typeof value === "string") note(at, "string");
    else if (typeof value === "boolean") note(at, "bool");
    else if (Array.isArray(value) || at.length >= MAX_FLAT_DEPTH) note(at, "mixed");
    else {
      note(at, "object");
      scanJson(value as Record<string, unknown>, at, note);
    }
  }
}

function scanStruct(type: DataType, path: string[], note: (path: string[], kind: Kind) => void): void {
  const fields = (type as DataType & { inner: { name: string; dtype: DataType }[] }).inner;
  for (const field of fields) {
    const at = [...path, field.name];
    const dtype = dtypeOf(field.dtype);
    if (dtype === "struct" && at.length < MAX_FLAT_DEPTH) {
      note(at, "object");
      scanStruct(field.dtype, at, note);
    } else if (dtype === "float" || dtype === "int" || dtype === "string" || dtype === "bool") note(at, dtype);
    else note(at, "mixed");
  }
}

export function learnTextHash(ctx: StepContext, step: StepOf<"textHash">): FittedOf<"textHash"> {
  ctx.column(step.column, ["string"], "textHash");
  const prefix = step.prefix ?? `${step.column}_hash_`;
  ctx.fresh(Array.from({ length: step.buckets }, (_, b) => bucketColumn(prefix, b)));
  if (!step.tfidf) return { op: "textHash", column: step.column, buckets: step.buckets, prefix, idf: null };
  // Document frequency per bucket: in how many training rows the bucket occurs at all.
  const documentFrequency = new Map<number, number>();
  const texts = ctx.columns([step.column]).getColumn(step.column).toArray() as (string | null)[];
  for (const text of texts) {
    if (text === null) continue;
    for (const bucket of hashCounts(text, step.buckets).keys()) {
      documentFrequency.set(bucket, (documentFrequency.get(bucket) ?? 0) + 1);
    }
  }
  const documents = texts.length;
  const values = [...documentFrequency]
    .sort(([a], [b]) => a - b)
    .map(([bucket, df]): [number, number] => [bucket, smoothIdf(documents, df)]);
  return {
    op: "textHash",
    column: step.column,
    buckets: step.buckets,
    prefix,
    idf: { documents, unseen: smoothIdf(documents, 0), values },
  };
}
