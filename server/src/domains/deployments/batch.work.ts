// Batch inference in a task subprocess: a whole dataset version through the model's fitted
// recipe (the batch engine, the same steps serving applies per row) and the model, written
// back as Parquet with the predictions beside the input columns.
import pl from "nodejs-polars";
import type { Converted } from "../datasets/ingest.work";
import { readParquetFile } from "../datasets/parquet";
import { schemaOf } from "../datasets/profile.work";
import { writeParquet } from "../datasets/sources/write-parquet";
import { featureMatrix } from "../models/training/data";
import { formatPredictions, loadModel, predictMatrix, type SavedModel } from "../models/training/serialize";
import { applyBatch, type FittedRecipe } from "../recipes/engine";
import type { SubprocessProgress } from "../../platform/subprocess";

export interface BatchPredictInput {
  file: string;
  saved: SavedModel;
  fitted: FittedRecipe | null;
  out: string;
}

const CHUNK = 50_000;

export async function batchPredictFile(input: BatchPredictInput, report: SubprocessProgress): Promise<Converted & { keptInputColumns: boolean }> {
  const loaded = await loadModel(input.saved);
  try {
    const raw = readParquetFile(input.file);
    report(0.1, "applying the recipe");
    // `fitted` comes from modelForScoring: the target is optional, so new data without it scores.
    const prepared = input.fitted ? applyBatch(raw, input.fitted) : raw;
    // A recipe that drops rows (filter, dropNulls) breaks the row correspondence: then the
    // output is the prepared frame itself.
    const keptInputColumns = prepared.height === raw.height;
    const features = loaded.saved.signature.features.map((f) => f.name);
    const columns: Record<string, (number | string)[]> = {};
    const append = (name: string, values: (number | string)[]) => {
      const column = (columns[name] ??= []);
      for (const v of values) column.push(v);
    };
    for (let start = 0; start < prepared.height; start += CHUNK) {
      const part = prepared.slice(start, Math.min(CHUNK, prepared.height - start));
      const x = featureMatrix(part, features);
      const p = formatPredictions(loaded.saved, predictMatrix(loaded, x, part.height), part.height);
      if (p.task === "regression") append("prediction", p.values);
      else {
        append("prediction", p.labels);
        p.classes.forEach((c, k) => append(`probability_${c}`, p.probabilities.map((row) => row[k])));
      }
      report(0.1 + (0.8 * Math.min(prepared.height, start + CHUNK)) / Math.max(1, prepared.height), `scored ${Math.min(prepared.height, start + CHUNK)} of ${prepared.height} rows`);
    }
    const base = keptInputColumns ? raw : prepared;
    const out = base.withColumns(...Object.entries(columns).map(([name, values]) => pl.Series(base.columns.includes(name) ? `${name}_predicted` : name, values)));
    writeParquet(out, input.out);
    return { schema: schemaOf(out), rowCount: out.height, keptInputColumns };
  } finally {
    loaded.dispose();
  }
}
