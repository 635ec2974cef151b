// The engine's own small type vocabulary. Polars has many physical types (Int8..UInt64,
// Float32, Datetime in three units, ...); the batch path normalises them to one physical
// type per name so that the per-row path, which only has JS numbers, strings and booleans,
// can mirror it exactly. No polars import here: the row path depends on this file.

export const CAST_TARGETS = ["float", "int", "string", "bool", "date", "datetime"] as const;
export type CastTarget = (typeof CAST_TARGETS)[number];

/** Scalar types, plus `struct` (nested records) and `other` (lists, binary, ...: carried, never read). */
export type Dtype = CastTarget | "struct" | "other";

/** A column as the recipe saw it while fitting. `nullable`: the training data had nulls there. */
export interface Field {
  name: string;
  dtype: Dtype;
  nullable: boolean;
}

/**
 * An input column. `optional` columns may be absent at apply time (read as all-null) because
 * the first step that touches them is a fillNull, which gives them a value anyway.
 */
export interface InputField extends Field {
  optional: boolean;
}

/** A JSON-safe scalar. Dates travel as ISO strings ("2012-01-31", "2012-01-31T08:00:00.000Z"). */
export type Scalar = number | string | boolean;

export const isNumeric = (d: Dtype): d is "float" | "int" => d === "float" || d === "int";
export const isTemporal = (d: Dtype): d is "date" | "datetime" => d === "date" || d === "datetime";
export const isScalarDtype = (d: Dtype): d is CastTarget => (CAST_TARGETS as readonly string[]).includes(d);

/**
 * Which casts the engine defines. Anything else (a number to a date, a date to a number, a
 * struct to anything) has no single obvious meaning, so a recipe asking for it is rejected
 * when fitted rather than producing a guess.
 */
export function castAllowed(from: Dtype, to: Dtype): boolean {
  if (from === to) return true;
  if (!isScalarDtype(from) || !isScalarDtype(to)) return false;
  if (from === "string" || to === "string") return true;
  if (isTemporal(from) || isTemporal(to)) return isTemporal(from) && isTemporal(to);
  return true; // float, int, bool among themselves
}
