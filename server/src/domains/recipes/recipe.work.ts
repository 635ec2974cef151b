import pl from "nodejs-polars";
import type { Converted } from "../datasets/ingest.work";
import { readParquetFile } from "../datasets/parquet";
import { schemaOf } from "../datasets/profile.work";
import { writeParquet } from "../datasets/sources/write-parquet";
import { applyBatch, fitRecipe, type FittedRecipe, type RecipeStep } from "./engine";

// Runs in a task subprocess (see platform/subprocess.ts): polars calls block the thread.

/** Reference datasets for join steps, by version id, as local Parquet files. */
type RefFiles = Record<string, string>;

function resolver(refs: RefFiles) {
  const cache = new Map<string, pl.DataFrame>();
  return (versionId: string): pl.DataFrame => {
    const file = refs[versionId];
    if (!file) throw new Error(`reference dataset version ${versionId} was not provided`);
    if (!cache.has(versionId)) cache.set(versionId, readParquetFile(file));
    return cache.get(versionId)!;
  };
}

export async function fitOnFile(input: { file: string; steps: RecipeStep[]; refs: RefFiles }): Promise<FittedRecipe> {
  return fitRecipe(readParquetFile(input.file), input.steps, resolver(input.refs));
}

export async function applyToFile(input: { file: string; fitted: FittedRecipe; out: string }): Promise<Converted> {
  const df = applyBatch(readParquetFile(input.file), input.fitted);
  writeParquet(df, input.out);
  return { schema: schemaOf(df), rowCount: df.height };
}
