// Checks request rows against what a serving graph needs, reporting every problem at once
// (row, field, reason) rather than the first: a caller fixing a payload wants the list.
import { castAllowed, isScalarDtype, type Dtype, type InputField } from "../../recipes/engine/dtypes";

export interface FieldProblem {
  row: number;
  field: string;
  reason: string;
}

const EXPECTED: Record<string, string> = { float: "a number", int: "an integer", string: "text", bool: "true or false", date: "a date (YYYY-MM-DD)", datetime: "a timestamp (ISO 8601)" };

function jsType(value: unknown): Dtype | "null" | "array" | "object" {
  if (value === null || value === undefined) return "null";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  if (typeof value === "string") return "string";
  if (typeof value === "boolean") return "bool";
  return Array.isArray(value) ? "array" : "object";
}

/**
 * Problems with one row. `allowed` names columns the caller may send besides the inputs
 * (the sticky key, the enrichment entity); anything else is refused as an unknown field,
 * since a misspelled column silently read as missing is worse than an error. `known` is the
 * inputs' names, which a compiled route passes ready-made rather than rebuilt per row.
 */
export function rowProblems(row: unknown, index: number, inputs: InputField[], allowed: Set<string>, known: Set<string> = new Set(inputs.map((f) => f.name))): FieldProblem[] {
  if (row === null || typeof row !== "object" || Array.isArray(row)) return [{ row: index, field: "", reason: "a row must be a JSON object of column values" }];
  const record = row as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  for (const key of Object.keys(record)) {
    if (!known.has(key) && !allowed.has(key)) problems.push({ row: index, field: key, reason: "unknown field (not an input of this model)" });
  }
  for (const field of inputs) {
    const value = record[field.name];
    const type = jsType(value);
    if (type === "null") {
      // Nullable inputs are filled by the recipe (fillNull); others must be present.
      if (!field.optional && !field.nullable) problems.push({ row: index, field: field.name, reason: value === undefined ? "missing" : "null is not allowed here" });
      continue;
    }
    if (!isScalarDtype(field.dtype)) continue;
    if (type === "array" || type === "object") {
      problems.push({ row: index, field: field.name, reason: `expected ${EXPECTED[field.dtype]}, got ${type === "array" ? "an array" : "an object"}` });
      continue;
    }
    if (!castAllowed(type, field.dtype)) problems.push({ row: index, field: field.name, reason: `expected ${EXPECTED[field.dtype]}, got ${JSON.stringify(value)}` });
    else if ((field.dtype === "float" || field.dtype === "int") && type === "string" && !Number.isFinite(Number(value))) {
      problems.push({ row: index, field: field.name, reason: `expected ${EXPECTED[field.dtype]}, got ${JSON.stringify(value)}` });
    }
  }
  return problems;
}
