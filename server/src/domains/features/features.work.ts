import { writeFileSync } from "node:fs";
import pl from "nodejs-polars";
import { badInput } from "../../platform/errors";
import type { Converted } from "../datasets/ingest.work";
import { readParquetFile } from "../datasets/parquet";
import { schemaOf } from "../datasets/profile.work";
import { writeParquet } from "../datasets/sources/write-parquet";
import { applyBatch, type FittedRecipe } from "../recipes/engine";
import { castExpr, dtypeOf, toRows } from "../recipes/engine/polars-types";

// Runs in a task subprocess (see platform/subprocess.ts): polars calls block the thread.

export interface FeatureSpec {
  entityKeys: string[];
  timestampColumn: string | null;
  /** Empty: every column but the keys and the timestamp. */
  features: string[];
}

const EVENT_TIME = "__ouro_event_time";
const ROW = "__ouro_row";

/** How an entity is named in the online store: the value, or a JSON array for composite keys. */
export function entityKeyOf(values: unknown[]): string {
  return values.length === 1 ? String(values[0]) : JSON.stringify(values);
}

function requireColumns(df: pl.DataFrame, columns: string[], what: string): void {
  const missing = columns.filter((c) => !df.columns.includes(c));
  if (missing.length) throw badInput(`${what}: column(s) ${missing.join(", ")} not found; available: ${df.columns.join(", ")}`);
}

export interface Materialized extends Converted {
  features: string[];
  entities: number;
}

/**
 * Computes the feature table (recipe applied if any) into `offlineOut` (Parquet), and the
 * latest row per entity into `latestOut` (NDJSON lines {key, time, values}) for the online store.
 */
export async function materialize(input: { file: string; fitted: FittedRecipe | null; spec: FeatureSpec; offlineOut: string; latestOut: string }): Promise<Materialized> {
  let df = readParquetFile(input.file);
  if (input.fitted) df = applyBatch(df, input.fitted);
  const { entityKeys, timestampColumn } = input.spec;
  requireColumns(df, [...entityKeys, ...(timestampColumn ? [timestampColumn] : [])], "feature set keys");
  const reserved = new Set([...entityKeys, ...(timestampColumn ? [timestampColumn] : [])]);
  const features = input.spec.features.length ? input.spec.features : df.columns.filter((c) => !reserved.has(c));
  requireColumns(df, features, "feature set features");
  if (features.length === 0) throw badInput("the feature set has no feature columns");
  df = df.select(...entityKeys, ...(timestampColumn ? [timestampColumn] : []), ...features);
  writeParquet(df, input.offlineOut);

  // Latest per entity: the last row in time order (stable, so later rows win ties).
  let ordered = df.withRowIndex(ROW);
  if (timestampColumn) ordered = ordered.sort([timestampColumn, ROW]);
  const latest = ordered.groupBy(entityKeys).agg(pl.all().exclude(entityKeys[0], ...entityKeys.slice(1)).last()).drop(ROW);
  const lines = toRows(latest).map((row) => {
    const values: Record<string, unknown> = {};
    for (const f of features) values[f] = row[f] ?? null;
    return JSON.stringify({ key: entityKeyOf(entityKeys.map((k) => row[k])), time: timestampColumn ? (row[timestampColumn] ?? null) : null, values });
  });
  writeFileSync(input.latestOut, lines.join("\n") + (lines.length ? "\n" : ""));
  return { schema: schemaOf(df), rowCount: df.height, features, entities: latest.height };
}

/**
 * A time column as the as-of join's key, Datetime("ms"). Text goes through the recipe engine's
 * cast, which reads both "YYYY-MM-DD" and "YYYY-MM-DDTHH:MM:SS[.fff][Z]": polars' own string →
 * Datetime cast turns date-only text into null, so a spine read from CSV (dates are text there)
 * never matched a feature set whose times are dates (a recipe's `cast … to date` / `dateParts`
 * output) unless it was cast to datetime first. Dates and datetimes of any unit are cast.
 */
function eventTime(df: pl.DataFrame, column: string, what: string, shown = column): pl.Expr {
  const dtype = dtypeOf(df.getColumn(column).dtype);
  const value = pl.col(column);
  if (dtype === "string") return castExpr(value, "string", "datetime");
  if (dtype === "date" || dtype === "datetime") return value.cast(pl.Datetime("ms"));
  throw badInput(`${what}: time column "${shown}" is ${dtype}; it needs dates, datetimes or ISO date text`, { column: shown, dtype });
}

export interface TrainingSetPart {
  name: string;
  file: string;
  spec: FeatureSpec & { features: string[] };
}

/**
 * The spine with every feature set's values as of each spine row's time: for each row, the
 * latest feature row of the same entity whose event time is at or before the spine's time.
 * A value from after the spine row is never used (no leakage). Spine rows keep their order;
 * feature columns are named `<feature set>__<feature>`.
 */
export async function buildTrainingSet(input: { spineFile: string; spineTime: string; parts: TrainingSetPart[]; out: string }): Promise<Converted> {
  let spine = readParquetFile(input.spineFile).withRowIndex(ROW);
  requireColumns(spine, [input.spineTime], "spine");
  spine = spine.withColumns(eventTime(spine, input.spineTime, "spine").alias(EVENT_TIME)).sort(EVENT_TIME);
  for (const part of input.parts) {
    const { entityKeys, timestampColumn, features } = part.spec;
    if (!timestampColumn) throw badInput(`feature set ${part.name} has no timestamp column; a training set needs event times`);
    requireColumns(spine, entityKeys, `spine (keys of feature set ${part.name})`);
    const renamed: Record<string, string> = { [timestampColumn]: EVENT_TIME };
    for (const f of features) renamed[f] = `${part.name}__${f}`;
    let right = readParquetFile(part.file).select(...entityKeys, timestampColumn, ...features).rename(renamed);
    right = right.withColumns(eventTime(right, EVENT_TIME, `feature set ${part.name}`, timestampColumn).alias(EVENT_TIME)).sort(EVENT_TIME);
    for (const k of entityKeys) right = right.withColumns(pl.col(k).cast(spine.getColumn(k).dtype));
    spine = spine.joinAsof(right, { on: EVENT_TIME, by: entityKeys, strategy: "backward" });
  }
  const out = spine.sort(ROW).drop(ROW, EVENT_TIME);
  writeParquet(out, input.out);
  return { schema: schemaOf(out), rowCount: out.height };
}
