// The bridge between the engine's types and polars: one canonical physical type per engine
// type, typed literals, the engine's cast as a polars expression (mirroring values.ts
// castValue), and frames ⇄ rows in the row convention (dates as ISO strings).
import pl, { type DataFrame, type DataType, type Expr, type LazyDataFrame } from "nodejs-polars";
import { badInput } from "../../../platform/errors";
import { castAllowed, isScalarDtype, type Dtype, type Field, type InputField, type Scalar } from "./dtypes";
import { DATE_PATTERN, DATETIME_PATTERN, FLOAT_PATTERN, INT_PATTERN } from "./values";

export function dtypeOf(type: DataType): Dtype {
  switch (type.variant) {
    case "Float32":
    case "Float64":
      return "float";
    case "Int8":
    case "Int16":
    case "Int32":
    case "Int64":
    case "UInt8":
    case "UInt16":
    case "UInt32":
    case "UInt64":
      return "int";
    case "Utf8":
    case "String":
    case "Categorical":
      return "string";
    case "Bool":
      return "bool";
    case "Date":
      return "date";
    case "Datetime":
      return "datetime";
    case "Struct":
      return "struct";
    default:
      return "other";
  }
}

/** The one physical type each scalar engine type has inside the batch path. */
export function plType(dtype: Dtype): DataType {
  switch (dtype) {
    case "float":
      return pl.Float64;
    case "int":
      return pl.Int64;
    case "string":
      return pl.Utf8;
    case "bool":
      return pl.Bool;
    case "date":
      return pl.Date;
    case "datetime":
      // Milliseconds, because the row path holds datetimes as JavaScript Dates / ISO strings.
      return pl.Datetime("ms");
    default:
      throw new Error(`no single polars type for engine type ${dtype}`);
  }
}

/** A column expression cast to its canonical physical type when it is not already. */
export function canonical(expr: Expr, actual: DataType): Expr {
  const dtype = dtypeOf(actual);
  return isScalarDtype(dtype) && !actual.equals(plType(dtype)) ? expr.cast(plType(dtype)) : expr;
}

/** Column name → polars type, in column order. */
export type Schema = Map<string, DataType>;

// nodejs-polars 0.25 has no collectSchema. `limit(0)` is no substitute: it cannot be pushed
// below a groupBy, so it would run the whole aggregation. The native `fetchSync(n)` runs the
// plan on the first n rows of each scanned source; this wraps its result as a DataFrame.
const { _DataFrame: wrapNative } = require("nodejs-polars/bin/dataframe") as { _DataFrame: (native: unknown) => DataFrame };

/** A frame's schema; for a lazy query, from the plan run on zero input rows. */
export function schemaOf(frame: DataFrame | LazyDataFrame): Schema {
  const df = isLazy(frame) ? wrapNative((frame as LazyDataFrame & { _ldf: { fetchSync(n: number): unknown } })._ldf.fetchSync(0)) : frame;
  return namedTypes(df);
}

/**
 * Column names beside their types, read in one call each: going through `getColumns()` (or
 * polars' own `schema` getter, which does) wraps every column in a Series, about a
 * millisecond each, which a text hash's thousands of bucket columns turn into seconds.
 */
function namedTypes(df: DataFrame): Schema {
  const types = df.dtypes;
  return new Map(df.columns.map((name, i) => [name, types[i] as DataType]));
}

export const isLazy = (frame: DataFrame | LazyDataFrame): frame is LazyDataFrame =>
  typeof (frame as { collectSync?: unknown }).collectSync === "function";

export const typesOf = (schema: Schema): Map<string, Dtype> => new Map([...schema].map(([name, type]) => [name, dtypeOf(type)]));

/**
 * Casts bringing the named columns to their canonical physical type. Steps that compute on
 * columns (derive, filter, join keys) apply them first, so a narrower integer column (one-hot
 * output is UInt8) never changes a result: 0 - 1 is -1, not 255. Empty when all are canonical.
 */
export function canonicalCasts(schema: Schema, names: readonly string[]): Expr[] {
  return [...new Set(names)].flatMap((name) => {
    const actual = schema.get(name);
    if (actual === undefined) return [];
    const dtype = dtypeOf(actual);
    return isScalarDtype(dtype) && !actual.equals(plType(dtype)) ? [pl.col(name).cast(plType(dtype))] : [];
  });
}

/** The frame with the named columns in their canonical physical type (see canonicalCasts). No copy when all are. */
export function withCanonical(df: DataFrame, names: readonly string[]): DataFrame {
  const casts = canonicalCasts(schemaOf(df), names);
  return casts.length > 0 ? df.withColumns(...casts) : df;
}

export function fieldsOf(df: DataFrame): Field[] {
  const nulls = df.width > 0 ? (df.nullCount().row(0) as (number | bigint)[]) : [];
  return [...namedTypes(df)].map(([name, type], i) => ({ name, dtype: dtypeOf(type), nullable: Number(nulls[i]) > 0 }));
}

export const columnTypes = (df: DataFrame): Map<string, Dtype> => typesOf(namedTypes(df));

/** Every column in its canonical physical type (Int32 → Int64, Categorical → String, ...). */
export function normalizeFrame(df: DataFrame): DataFrame {
  return df.select(...normalizeExprs(schemaOf(df)));
}

export const normalizeExprs = (schema: Schema): Expr[] => [...schema].map(([name, type]) => canonical(pl.col(name), type));

/** A literal of the given engine type. Dates arrive as ISO strings and are parsed by polars. */
export function typedLit(value: Scalar | null, dtype: Dtype): Expr {
  if (value === null) return pl.lit(null).cast(plType(dtype));
  if (dtype === "date" || dtype === "datetime") return castExpr(pl.lit(value), "string", dtype);
  return pl.lit(value).cast(plType(dtype));
}

const nullOf = (dtype: Dtype): Expr => pl.lit(null).cast(plType(dtype));

/**
 * The engine's cast (see values.ts castValue for the same rules in JavaScript). Strings
 * are tested against the engine's patterns before polars parses them, because polars'
 * own parsers accept a different set of spellings ("2012-1-2", "inf", ...).
 */
export function castExpr(expr: Expr, from: Dtype, to: Dtype): Expr {
  if (from === to) return expr;
  if (!castAllowed(from, to)) throw new Error(`cast from ${from} to ${to} is not defined`);
  if (from === "string") {
    switch (to) {
      case "float":
        return pl.when(expr.str.contains(FLOAT_PATTERN)).then(expr.cast(pl.Float64)).otherwise(nullOf("float"));
      case "int":
        return pl.when(expr.str.contains(INT_PATTERN)).then(expr.cast(pl.Int64)).otherwise(nullOf("int"));
      case "bool": {
        const lower = expr.str.toLowerCase();
        return pl
          .when(lower.eq(pl.lit("true")))
          .then(pl.lit(true))
          .when(lower.eq(pl.lit("false")))
          .then(pl.lit(false))
          .otherwise(nullOf("bool"));
      }
      case "date":
        return pl
          .when(expr.str.contains(DATE_PATTERN))
          .then(expr.str.strptime(pl.Date, "%Y-%m-%d"))
          .otherwise(nullOf("date"));
      case "datetime": {
        // Cut the fraction to milliseconds as text before parsing: polars rounds a finer
        // pre-1970 fraction toward zero in one context and toward -inf in another.
        const normalised = expr.str.replace("Z$", "").str.replace(" ", "T", true).str.slice(0, 23);
        return pl
          .when(expr.str.contains(DATE_PATTERN))
          .then(expr.str.strptime(pl.Datetime("ms"), "%Y-%m-%d"))
          .when(expr.str.contains(DATETIME_PATTERN))
          .then(normalised.str.strptime(pl.Datetime("ms"), "%Y-%m-%dT%H:%M:%S%.f"))
          .otherwise(nullOf("datetime"));
      }
    }
  }
  if (to === "string" && from === "datetime") return expr.dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ");
  if (to === "bool") return expr.neq(pl.lit(0)); // from float or int; NaN → true, as in JS
  return expr.cast(plType(to));
}

/**
 * Makes an incoming frame look exactly like the training input: columns in the fitted
 * order and types, extra columns dropped, optional missing columns added as nulls.
 */
export function conformFrame(df: DataFrame, schema: InputField[]): DataFrame {
  return df.select(...conformExprs(schemaOf(df), schema));
}

/** conformFrame's projection, for a frame or a lazy query of the given schema. */
export function conformExprs(present: Schema, schema: InputField[]): Expr[] {
  const missing = schema.filter((f) => !present.has(f.name) && !f.optional).map((f) => f.name);
  if (missing.length > 0) {
    throw badInput(`input is missing column(s) ${missing.map((m) => `"${m}"`).join(", ")}`, { missing });
  }
  return schema.map((field) => {
    const actual = present.get(field.name);
    if (actual === undefined) return nullOf(field.dtype).alias(field.name);
    const have = dtypeOf(actual);
    if (!isScalarDtype(field.dtype)) return pl.col(field.name);
    if (!castAllowed(have, field.dtype)) {
      throw badInput(`column "${field.name}" is ${have}; the recipe was fitted on ${field.dtype}`, {
        column: field.name,
      });
    }
    return castExpr(canonical(pl.col(field.name), actual), have, field.dtype).alias(field.name);
  });
}

/** Rows in the row convention: dates "YYYY-MM-DD", datetimes "…T…Z", Int64 as numbers. */
export function toRows(df: DataFrame): Record<string, unknown>[] {
  const fields = fieldsOf(df);
  return df.toRecords().map((record) => {
    const row: Record<string, unknown> = {};
    for (const { name, dtype } of fields) row[name] = toRowValue(record[name], dtype);
    return row;
  });
}

export function toRowValue(value: unknown, dtype: Dtype): unknown {
  if (value instanceof Date) return dtype === "date" ? value.toISOString().slice(0, 10) : value.toISOString();
  if (typeof value === "bigint") return Number(value);
  return value ?? null;
}
