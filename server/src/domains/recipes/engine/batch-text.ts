// Text and JSON to columns, in batch. Polars tokenises, explodes, joins and counts; the
// only JavaScript is hashing each distinct token once (text.ts, shared with the row path)
// and scattering the sparse counts into the dense bucket columns.
import pl, { type DataFrame, type Expr, type Series } from "nodejs-polars";
import { bucketColumn, type FittedStep } from "./fitted";
import { castExpr, plType } from "./polars-types";
import { bucketOf, TOKEN_SEPARATOR } from "./text";

type StepOf<K extends FittedStep["op"]> = Extract<FittedStep, { op: K }>;

const ROW = "__ouro_row";
const TOKEN = "__ouro_token";
const BUCKET = "__ouro_bucket";
const COUNT = "__ouro_count";

const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A JSONPath for polars' jsonPathMatch; fitting skips keys that would need escaping. */
export const jsonPath = (path: string[]): string =>
  "$" + path.map((key) => (SIMPLE_KEY.test(key) ? `.${key}` : `['${key}']`)).join("");

export function applyFlattenJson(df: DataFrame, step: StepOf<"flattenJson">): DataFrame {
  return df.withColumns(...flattenExprs(step)).drop(step.column);
}

/** The flattened columns as expressions (the batch path adds them, then drops the source). */
export function flattenExprs(step: StepOf<"flattenJson">): Expr[] {
  const source = pl.col(step.column);
  return step.fields.map((field) => {
    // jsonPathMatch yields the value's text (null for invalid JSON or a missing key); the
    // engine's string cast then reads it, exactly as the row path reads a parsed value.
    const value =
      step.source === "json"
        ? castExpr(source.str.jsonPathMatch(jsonPath(field.path)), "string", field.dtype)
        : field.path.reduce<Expr>((inner, key) => inner.struct.field(key), source).cast(plType(field.dtype));
    return value.alias(field.name);
  });
}

/** Lowercase, split on runs of non-letters/digits; empty strings are removed later. */
const tokensOf = (text: Expr): Expr => text.str.toLowerCase().str.replaceAll(TOKEN_SEPARATOR, " ").str.split(" ");

export function applyTextHash(df: DataFrame, step: StepOf<"textHash">): DataFrame {
  const tokens = df
    .withRowIndex(ROW)
    .select(pl.col(ROW), tokensOf(pl.col(step.column)).alias(TOKEN))
    .explode(TOKEN)
    .filter(pl.col(TOKEN).neq(pl.lit(""))); // also drops the nulls of null texts
  const distinct = tokens.getColumn(TOKEN).unique();
  const buckets = pl.Series(
    BUCKET,
    (distinct.toArray() as string[]).map((token) => bucketOf(token, step.buckets)),
    pl.Int64,
  );
  const counts = tokens
    .join(pl.DataFrame([distinct.rename(TOKEN), buckets]), { on: TOKEN, how: "inner" })
    .groupBy([ROW, BUCKET])
    .agg(pl.len().alias(COUNT));

  const idf = new Map(step.idf?.values ?? []);
  const dense = new Map<number, Float64Array>();
  const rows = counts.getColumn(ROW).toArray() as number[];
  const bucketIds = counts.getColumn(BUCKET).toArray() as number[];
  const termCounts = counts.getColumn(COUNT).toArray() as number[];
  for (let i = 0; i < rows.length; i++) {
    const bucket = bucketIds[i] as number;
    let column = dense.get(bucket);
    if (column === undefined) dense.set(bucket, (column = new Float64Array(df.height)));
    const weight = step.idf === null ? 1 : (idf.get(bucket) ?? step.idf.unseen);
    // Same arithmetic as the row path: count × idf, one multiplication.
    column[rows[i] as number] = step.idf === null ? (termCounts[i] as number) : (termCounts[i] as number) * weight;
  }
  const zeros = pl.Series("zeros", new Float64Array(df.height));
  const columns: Series[] = [];
  for (let bucket = 0; bucket < step.buckets; bucket++) {
    const name = bucketColumn(step.prefix, bucket);
    const values = dense.get(bucket);
    columns.push(values === undefined ? zeros.rename(name) : pl.Series(name, values));
  }
  return df.withColumns(...columns);
}
