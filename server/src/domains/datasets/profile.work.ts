import pl from "nodejs-polars";
import type { ColumnSchema } from "./dataset-version.entity";
import { readParquetFile } from "./parquet";
import { evaluateExpectations, type Expectation, type QualityReport } from "./quality.work";

// Runs in a task subprocess (see platform/subprocess.ts): polars calls block the thread.

export const QUANTILES = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99] as const;
const HISTOGRAM_BINS = 20;
const TOP_K = 20;

/** Over the non-null values. */
export interface NumericSummary {
  min: number | null;
  max: number | null;
  mean: number | null;
  /** Sample standard deviation (divides by n - 1, as pandas); null for fewer than two values. */
  std: number | null;
  /** p1, p5, p25, p50, p75, p95, p99, with linear interpolation between values. */
  quantiles: Record<string, number | null>;
  histogram: { edges: number[]; counts: number[] };
}

export interface CategoricalSummary {
  /** The most frequent non-null values, most frequent first, at most TOP_K of them. */
  top: { value: string; count: number }[];
  /** Non-null rows whose value is not in `top`. */
  otherCount: number;
}

export interface ColumnProfile {
  name: string;
  type: string;
  /** Non-null values. */
  count: number;
  nulls: number;
  nullFraction: number;
  /** Distinct non-null values (null is not a value: as pandas' nunique), so never above `count`. */
  distinct: number;
  numeric?: NumericSummary;
  categorical?: CategoricalSummary;
  /** In characters, not bytes; nulls left out. */
  textLength?: { min: number | null; mean: number | null; max: number | null };
  temporal?: { min: string | null; max: string | null };
}

export interface DatasetProfile {
  rowCount: number;
  columns: ColumnProfile[];
  profiledAt: string;
}

const num = (v: unknown): number | null => (v === null || v === undefined || Number.isNaN(Number(v)) ? null : Number(v));

function numericSummary(s: pl.Series): NumericSummary {
  const values = s.dropNulls().cast(pl.Float64);
  const quantiles: Record<string, number | null> = {};
  for (const q of QUANTILES) quantiles[`p${Math.round(q * 100)}`] = values.length ? num(values.quantile(q, "linear")) : null;
  const min = values.length ? num(values.min()) : null;
  const max = values.length ? num(values.max()) : null;
  const stats: Record<string, unknown> = values.length ? pl.DataFrame({ v: values }).select(pl.col("v").mean().alias("mean"), pl.col("v").std().alias("std")).toRecords()[0] : {};
  return { min, max, mean: num(stats.mean), std: num(stats.std), quantiles, histogram: histogram(values, min, max) };
}

/** Equal-width bins over [min, max]; the last bin includes max. */
export function histogram(values: pl.Series, min: number | null, max: number | null, bins = HISTOGRAM_BINS): { edges: number[]; counts: number[] } {
  if (min === null || max === null) return { edges: [], counts: [] };
  const width = max > min ? (max - min) / bins : 1;
  const edges = Array.from({ length: bins + 1 }, (_, i) => min + i * width);
  const counts = new Array<number>(bins).fill(0);
  const idx = pl
    .DataFrame({ v: values })
    .select(pl.col("v").sub(min).div(width).floor().clip(0, bins - 1).cast(pl.Int32).alias("b"))
    .getColumn("b")
    .valueCounts();
  for (const r of idx.toRecords()) counts[Number(r.b)] = Number(r.count);
  return { edges, counts };
}

function categoricalSummary(s: pl.Series): CategoricalSummary {
  // Renamed first: valueCounts refuses a series named "count", the name of its own count column.
  const counts = s.dropNulls().cast(pl.Utf8).rename("value").valueCounts(true).toRecords() as Record<string, unknown>[];
  const top = counts.slice(0, TOP_K).map((r) => ({ value: String(r.value), count: Number(r.count) }));
  const otherCount = counts.slice(TOP_K).reduce((a, r) => a + Number(r.count), 0);
  return { top, otherCount };
}

export function profileFrame(df: pl.DataFrame, schema: ColumnSchema[]): DatasetProfile {
  const columns = schema.map((col): ColumnProfile => {
    const s = df.getColumn(col.name);
    const nulls = s.nullCount();
    const base: ColumnProfile = {
      name: col.name,
      type: col.type,
      count: s.length - nulls,
      nulls,
      nullFraction: s.length ? nulls / s.length : 0,
      distinct: s.nUnique() - (nulls > 0 ? 1 : 0), // polars counts null as one more value
    };
    if (s.isNumeric()) return { ...base, numeric: numericSummary(s) };
    if (col.type === "Bool") return { ...base, categorical: categoricalSummary(s) };
    if (/^(Date|Datetime)/.test(col.type)) {
      // Polars formats dates and datetimes as ISO text; min and max are taken before formatting.
      const [r] = pl.DataFrame({ v: s }).select(pl.col("v").min().cast(pl.Utf8).alias("min"), pl.col("v").max().cast(pl.Utf8).alias("max")).toRecords() as Record<string, unknown>[];
      return { ...base, temporal: { min: (r.min as string | null) ?? null, max: (r.max as string | null) ?? null } };
    }
    if (col.type === "String") {
      const lengths = pl.DataFrame({ v: s }).select(pl.col("v").str.lengths().cast(pl.Float64).alias("n")).getColumn("n").dropNulls();
      return {
        ...base,
        categorical: categoricalSummary(s),
        textLength: lengths.length ? { min: num(lengths.min()), mean: num(lengths.mean()), max: num(lengths.max()) } : { min: null, mean: null, max: null },
      };
    }
    return base;
  });
  return { rowCount: df.height, columns, profiledAt: new Date().toISOString() };
}

/**
 * Names, polars' own type names (Float64, Int64, String, Bool, Date, Datetime, List, Struct,
 * ...) and nullability, in three calls: wrapping each column as a Series costs about a
 * millisecond, which a wide version (a text hash's thousands of columns) made seconds.
 */
export function schemaOf(df: pl.DataFrame): ColumnSchema[] {
  const types = df.dtypes;
  const nulls = df.width > 0 ? (df.nullCount().row(0) as (number | bigint)[]) : [];
  return df.columns.map((name, i) => ({ name, type: (types[i] as unknown as { variant: string }).variant, nullable: Number(nulls[i]) > 0 }));
}

/** Subprocess entry: profile the Parquet file at `file` and check expectations on it. */
export async function profileParquet(input: { file: string; expectations: Expectation[] }): Promise<DatasetProfile & { quality: QualityReport | null }> {
  const df = readParquetFile(input.file);
  const quality = input.expectations.length ? evaluateExpectations(df, input.expectations) : null;
  return { ...profileFrame(df, schemaOf(df)), quality };
}
