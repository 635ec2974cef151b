// Reads one incoming row into the types the recipe was fitted on. JSON gives us numbers,
// strings and booleans (and callers may pass Dates or bigints); each value is read with
// the engine's cast from its JavaScript type to the column's type, exactly as the batch
// path casts a column whose type differs from training. No polars import.
import { badInput } from "../../../platform/errors";
import { castAllowed, isScalarDtype, type Dtype, type InputField } from "./dtypes";
import { castValue } from "./values";

export type RowMap = Map<string, unknown>;

export function conformRow(row: Record<string, unknown>, schema: InputField[]): RowMap {
  if (row === null || typeof row !== "object" || Array.isArray(row)) throw badInput("a row must be a JSON object");
  const missing = schema.filter((f) => !f.optional && row[f.name] === undefined).map((f) => f.name);
  if (missing.length > 0) {
    throw badInput(`input is missing column(s) ${missing.map((m) => `"${m}"`).join(", ")}`, { missing });
  }
  const values: RowMap = new Map();
  for (const field of schema) {
    const raw = Object.hasOwn(row, field.name) ? row[field.name] : undefined;
    values.set(field.name, readValue(field.name, field.dtype, raw));
  }
  return values;
}

function readValue(column: string, dtype: Dtype, raw: unknown): unknown {
  if (raw === null || raw === undefined) return null;
  if (!isScalarDtype(dtype)) return raw; // structs and other nested values are carried as given
  let value: number | string | boolean;
  let from: Dtype;
  if (typeof raw === "bigint") raw = Number(raw);
  if (raw instanceof Date) {
    if (Number.isNaN(raw.getTime())) return null;
    value = raw.toISOString();
    from = "datetime";
  } else if (typeof raw === "number") {
    // An integral JS number is read as an int; this only matters for a string column,
    // where 3 becomes "3" (a float column's 3.0 would print "3.0" in polars).
    value = raw;
    from = Number.isInteger(raw) ? "int" : "float";
  } else if (typeof raw === "string" || typeof raw === "boolean") {
    value = raw;
    from = typeof raw === "string" ? "string" : "bool";
  } else {
    throw badInput(`column "${column}" expects a ${dtype}; got ${Array.isArray(raw) ? "an array" : typeof raw}`, {
      column,
    });
  }
  if (!castAllowed(from, dtype)) {
    throw badInput(`column "${column}" expects a ${dtype}; got ${JSON.stringify(value)}`, { column });
  }
  return castValue(value, from, dtype);
}
