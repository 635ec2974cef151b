import pl from "nodejs-polars";
import type { Converted } from "../datasets/ingest.work";
import { readParquetFile } from "../datasets/parquet";
import { schemaOf } from "../datasets/profile.work";
import { writeParquet } from "../datasets/sources/write-parquet";
import { applyBatch, fitAndApply, fitRecipe, type FittedRecipe, type RecipeStep } from "./engine";

// Runs in a task subprocess (see platform/subprocess.ts): polars calls block the thread.
// The input is scanned, not read: the recipe runs as one lazy query (engine/plan.ts), so
// polars reads only the columns it uses.

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

/** `nullable`: the input version's record of which columns hold nulls (saves counting them). */
export async function fitOnFile(input: { file: string; steps: RecipeStep[]; refs: RefFiles; nullable?: Record<string, boolean> }): Promise<FittedRecipe> {
  return fitRecipe(pl.scanParquet(input.file), input.steps, resolver(input.refs), { nullable: input.nullable });
}

export async function applyToFile(input: { file: string; fitted: FittedRecipe; out: string }): Promise<Converted> {
  const df = applyBatch(pl.scanParquet(input.file), input.fitted);
  writeParquet(df, input.out);
  return { schema: schemaOf(df), rowCount: df.height };
}

/**
 * Fit, then the same job's apply: fitting builds the plan applying runs (see engine
 * fitAndApply), so the output costs one collect of it instead of a second job.
 */
export async function fitApplyToFile(input: { file: string; steps: RecipeStep[]; refs: RefFiles; out: string; nullable?: Record<string, boolean> }): Promise<{ fitted: FittedRecipe; converted: Converted }> {
  const { fitted, output } = fitAndApply(pl.scanParquet(input.file), input.steps, resolver(input.refs), { nullable: input.nullable });
  writeParquet(output, input.out);
  return { fitted, converted: { schema: schemaOf(output), rowCount: output.height } };
}
