// Text and JSON to columns, in batch. Polars tokenises, explodes, joins and counts; the
// only JavaScript is hashing each distinct token once (text.ts, shared with the row path)
// and scattering the sparse counts into the dense bucket columns.
import pl, { type DataFrame, type Expr } from "nodejs-polars";
import { bucketColumn, type FittedStep } from "./fitted";
import { castExpr, plType } from "./polars-types";
import { bucketOf, TOKEN_SEPARATOR } from "./text";

type StepOf<K extends FittedStep["op"]> = Extract<FittedStep, { op: K }>;

const ROW = "__ouro_row";
const TOKEN = "__ouro_token";
const BUCKET = "__ouro_bucket";
const COUNT = "__ouro_count";
const VALUE = "__ouro_value";
const NAME = "__ouro_name";
const WEIGHT = "__ouro_weight";

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
  const idfOf = new Map(step.idf?.values ?? []);
  const counts = tokens
    .join(pl.DataFrame([distinct.rename(TOKEN), buckets]), { on: TOKEN, how: "inner" })
    .groupBy([ROW, BUCKET])
    .agg(pl.len().alias(COUNT));

  // Weighted counts, long: (row, bucket column name, value). Then polars makes the dense
  // columns in one pivot, which costs nothing per column; building them one by one through
  // the bindings cost about a millisecond each (seconds for a few thousand buckets).
  const names = Array.from({ length: step.buckets }, (_, b) => bucketColumn(step.prefix, b));
  const info = pl.DataFrame({
    [BUCKET]: names.map((_, b) => b),
    [NAME]: names,
    [WEIGHT]: names.map((_, b) => (step.idf === null ? 1 : (idfOf.get(b) ?? step.idf.unseen))),
  }).select(pl.col(BUCKET).cast(pl.Int64), pl.col(NAME), pl.col(WEIGHT).cast(pl.Float64));
  const part = (frame: DataFrame, row: Expr, value: Expr) => frame.select(row.cast(pl.Int64).alias(ROW), pl.col(NAME), value.cast(pl.Float64).alias(VALUE));
  const long = pl.concat([
    // Every bucket once, in order (so the columns come out in order), and every row once, at 0.
    part(info, pl.lit(-1), pl.lit(0)),
    part(pl.DataFrame([pl.Series(ROW, Array.from({ length: df.height }, (_, r) => r), pl.Int64), pl.Series(NAME, new Array<string>(df.height).fill(names[0] as string), pl.Utf8)]), pl.col(ROW), pl.lit(0)),
    // Same arithmetic as the row path: count × idf, one multiplication (× 1 without tfidf).
    part(counts.join(info, { on: BUCKET, how: "inner" }), pl.col(ROW), pl.col(COUNT).cast(pl.Float64).mul(pl.col(WEIGHT))),
  ]);
  const dense = long
    .pivot(VALUE, { index: ROW, on: NAME, aggregateFunc: "sum" } as never)
    .filter(pl.col(ROW).gtEq(0))
    .sort(ROW)
    .drop(ROW)
    .fillNull(0);
  return pl.concat([df, dense], { how: "horizontal" });
}
