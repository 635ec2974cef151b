// One fitted step applied to one row, in plain TypeScript: the per-row twin of
// batch-steps.ts. Each case must produce the same values, in the same column order, as
// its batch counterpart; engine.test.ts checks that on real data. No polars import.
import type { Dtype, Scalar } from "./dtypes";
import { evalExpr } from "./expr-eval";
import { bucketColumn, type FittedStep, type FlatField, type Lookup } from "./fitted";
import type { RowMap } from "./row-input";
import { hashCounts } from "./text";
import { castValue, datePart, parseBoolText, parseFloatText, parseIntText } from "./values";

type Num = number | null;

export function applyStepRow(row: RowMap, step: FittedStep): RowMap | null {
  switch (step.op) {
    case "select":
      return new Map(step.columns.map((c) => [c, row.get(c)]));
    case "drop":
      for (const c of step.columns) row.delete(c);
      return row;
    case "rename":
      return new Map([...row].map(([c, v]) => [Object.hasOwn(step.mapping, c) ? (step.mapping[c] as string) : c, v]));
    case "cast":
      row.set(step.column, castValue(row.get(step.column) as Scalar | null, step.from, step.to));
      return row;
    case "filter":
      return evalExpr(step.where, row) === true ? row : null; // null and false both drop
    case "derive":
      row.set(step.column, normalise(evalExpr(step.expr, row), step.dtype));
      return row;
    case "fillNull":
      if (step.strategy === "forward") throw new Error("a forward fill needs the previous row");
      for (const fill of step.fills) row.set(fill.column, row.get(fill.column) ?? fill.value);
      return row;
    case "dropNulls":
      return step.columns.some((c) => row.get(c) === null) ? null : row;
    case "clip": {
      const v = row.get(step.column) as Num;
      // NaN fails both comparisons and stays NaN, as the batch path arranges explicitly.
      if (v !== null && step.min !== null && v < step.min) row.set(step.column, step.min);
      else if (v !== null && step.max !== null && v > step.max) row.set(step.column, step.max);
      return row;
    }
    case "oneHot": {
      const v = row.get(step.column) as Scalar | null;
      const code = v === null ? undefined : codesOf(step.categories).get(String(v));
      step.columns.forEach((name, i) => row.set(name, code === i ? 1 : 0));
      row.set(step.otherColumn, v !== null && code === undefined ? 1 : 0);
      if (step.dropOriginal) row.delete(step.column);
      return row;
    }
    case "ordinalEncode": {
      const v = row.get(step.column) as Scalar | null;
      row.set(step.column, v === null ? null : (codesOf(step.categories).get(String(v)) ?? step.unknown));
      return row;
    }
    case "standardize":
      for (const s of step.stats) row.set(s.column, mapNum(row.get(s.column) as Num, (v) => (v - s.mean) / s.scale));
      return row;
    case "minMax":
      for (const s of step.stats) row.set(s.column, mapNum(row.get(s.column) as Num, (v) => (v - s.min) / s.range));
      return row;
    case "bucketize": {
      const v = row.get(step.column) as Num;
      row.set(step.column, v === null || Number.isNaN(v) ? null : step.boundaries.filter((b) => v >= b).length);
      return row;
    }
    case "dateParts": {
      const v = row.get(step.column) as string | null;
      step.parts.forEach((part, i) => row.set(step.columns[i] as string, v === null ? null : datePart(v, part)));
      return row;
    }
    case "join":
      return joinRow(row, step.leftOn, step.how, step.lookup);
    case "flattenJson": {
      const root = step.source === "json" ? parseJson(row.get(step.column)) : row.get(step.column);
      for (const field of step.fields) row.set(field.name, leafValue(walk(root, field.path), field.dtype));
      row.delete(step.column);
      return row;
    }
    case "textHash": {
      const text = row.get(step.column) as string | null;
      const counts = text === null ? new Map<number, number>() : hashCounts(text, step.buckets);
      const idf = step.idf === null ? null : idfOf(step.idf);
      for (let bucket = 0; bucket < step.buckets; bucket++) {
        const count = counts.get(bucket);
        const value = count === undefined ? 0 : idf === null ? count : count * (idf.get(bucket) ?? (step.idf?.unseen as number));
        row.set(bucketColumn(step.prefix, bucket), value);
      }
      return row;
    }
    case "groupBy":
    case "rolling":
      throw new Error(`${step.op} needs other rows`);
  }
}

const mapNum = (v: Num, fn: (v: number) => number): Num => (v === null ? null : fn(v));

/** Int64 has no -0 (JS gives 0 * -1 === -0). */
const normalise = (value: unknown, dtype: Dtype): unknown => (dtype === "int" && value === 0 ? 0 : value);

// Per-row lookups must be O(1), so index the fitted arrays once and keep the index beside
// the fitted object (a WeakMap: it goes when the recipe is dropped).
const codeIndexes = new WeakMap<Scalar[], Map<string, number>>();
function codesOf(categories: Scalar[]): Map<string, number> {
  let index = codeIndexes.get(categories);
  if (index === undefined) {
    // Keyed by text: the batch path compares categories as text too (ints, booleans cast).
    index = new Map(categories.map((c, i) => [String(c), i]));
    codeIndexes.set(categories, index);
  }
  return index;
}

const lookupIndexes = new WeakMap<Lookup, Map<Scalar, number>>();
function joinRow(row: RowMap, leftOn: string, how: "left" | "inner", lookup: Lookup): RowMap | null {
  let index = lookupIndexes.get(lookup);
  if (index === undefined) {
    index = new Map(lookup.keys.map((k, i) => [k, i]));
    lookupIndexes.set(lookup, index);
  }
  const key = row.get(leftOn) as Scalar | null;
  const at = key === null ? undefined : index.get(key); // a null key never matches
  if (at === undefined && how === "inner") return null;
  for (const column of lookup.columns) row.set(column.name, at === undefined ? null : (column.values[at] ?? null));
  return row;
}

const idfIndexes = new WeakMap<object, Map<number, number>>();
function idfOf(idf: { values: [number, number][] }): Map<number, number> {
  let index = idfIndexes.get(idf);
  if (index === undefined) idfIndexes.set(idf, (index = new Map(idf.values)));
  return index;
}

function parseJson(text: unknown): unknown {
  if (typeof text !== "string") return null;
  try {
    return JSON.parse(text);
  } catch {
    return null; // polars' jsonPathMatch also yields null for text that is not JSON
  }
}

function walk(root: unknown, path: string[]): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== "object" || Array.isArray(node) || !Object.hasOwn(node, key)) return null;
    node = (node as Record<string, unknown>)[key];
  }
  return node ?? null;
}

/** A JSON value read as the field's type, following what jsonPathMatch + the string cast give. */
function leafValue(value: unknown, dtype: FlatField["dtype"]): unknown {
  if (value === null) return null;
  switch (dtype) {
    case "float":
      return typeof value === "number" ? value : typeof value === "string" ? parseFloatText(value) : null;
    case "int":
      if (typeof value === "number") return castValue(value, Number.isInteger(value) ? "int" : "float", "int");
      return typeof value === "string" ? parseIntText(value) : null;
    case "bool":
      return typeof value === "boolean" ? value : typeof value === "string" ? parseBoolText(value) : null;
    case "string":
      return typeof value === "string" ? value : typeof value === "object" ? JSON.stringify(value) : String(value);
  }
}
