import pl from "nodejs-polars";
import { ksTwoSample } from "./drift/ks";

// Runs in a task subprocess (platform/subprocess.ts): reading the reference's columns is
// polars work that blocks the thread.

export interface RawKsInput {
  /** The reference dataset version's Parquet file. */
  file: string;
  /** Current window values per numeric feature. */
  columns: { name: string; values: number[] }[];
}

export interface RawKsOutput {
  name: string;
  statistic: number | null;
  pValue: number | null;
  referenceCount: number;
}

/**
 * Exact two-sample KS of each window column against the raw reference column (the profile's
 * histogram only gives a lower bound). Only the needed columns are read.
 */
export async function rawKs(input: RawKsInput): Promise<RawKsOutput[]> {
  const names = input.columns.map((c) => c.name);
  const df = pl.scanParquet(input.file).select(...names.map((n) => pl.col(n).cast(pl.Float64))).collectSync();
  return input.columns.map(({ name, values }) => {
    const ref = Float64Array.from(df.getColumn(name).dropNulls().toArray() as number[]);
    const ks = ksTwoSample(ref, values);
    return { name, statistic: Number.isFinite(ks.statistic) ? ks.statistic : null, pValue: Number.isFinite(ks.pValue) ? ks.pValue : null, referenceCount: ref.length };
  });
}
