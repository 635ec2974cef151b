// Reads a training request's Parquet files and prepares the arrays one training run uses:
// the split, the scaling (fitted on training rows only, so validation stays unseen) and the
// class weights.
import pl, { type DataFrame } from "nodejs-polars";
import { classWeights, columnStats, frameToArrays, splitIndices, standardize, takeRows, type ArrayData, type LabelledData } from "./data";
import { deriveSeed } from "./random";
import type { ResolvedTrainInput } from "./spec";

export interface TrainingData {
  /** Training rows as the network sees them (scaled when `standardize`). */
  train: ArrayData;
  /** Validation rows as the network sees them; null without validation. */
  validation: ArrayData | null;
  /** Validation rows in original units, for scoring the saved model. */
  validationRaw: ArrayData | null;
  classes: string[] | null;
  /** Polars type of each feature column, for the signature. */
  sourceTypes: string[];
  inputScaling: { mean: number[]; std: number[] } | null;
  targetScaling: { mean: number; std: number } | null;
  classWeights: Record<number, number> | null;
  classWeightsByLabel: Record<string, number> | null;
}

/**
 * Reads a whole Parquet file. Not pl.readParquet: given a path without a ".parquet" extension
 * it takes the string for the file's contents, and artifact blobs are named by hash alone.
 */
export function readParquet(file: string): DataFrame {
  return pl.scanParquet(file).collectSync();
}

export function loadTrainingData(input: ResolvedTrainInput): TrainingData {
  const { task, features, target, positiveClass } = input;
  const frame = readParquet(input.trainFile);
  const all = frameToArrays(frame, { task, features, target, positiveClass });
  const sourceTypes = features.map((f) => frame.getColumn(f).dtype.variant);

  let train: LabelledData = all;
  let validation: LabelledData | null = null;
  if (input.validation.kind === "split") {
    const split = splitIndices(all, input.validation.fraction, deriveSeed(input.seed, "split"));
    train = takeRows(all, split.train);
    validation = takeRows(all, split.validation);
  } else if (input.validation.kind === "file") {
    // The training classes are the model's classes; a label only the validation file has is refused.
    validation = frameToArrays(readParquet(input.validation.file), { task, features, target, classes: all.classes });
  }

  const inputScaling = input.standardize ? columnStats(train) : null;
  const targetScaling = input.standardize && task === "regression" ? targetStats(train.y) : null;
  const scale = (part: LabelledData): ArrayData => ({
    rows: part.rows,
    width: part.width,
    x: inputScaling ? standardize(part.x, part.width, inputScaling) : part.x,
    y: targetScaling ? part.y.map((v) => (v - targetScaling.mean) / targetScaling.std) : part.y,
  });

  const weightSpec = input.model.classWeights;
  const weights = weightSpec ? classWeights(train, weightSpec) : null;
  return {
    train: scale(train),
    validation: validation ? scale(validation) : null,
    validationRaw: validation,
    classes: all.classes,
    sourceTypes,
    inputScaling,
    targetScaling,
    classWeights: weights,
    classWeightsByLabel: weights && all.classes ? Object.fromEntries(all.classes.map((c, k) => [c, weights[k]])) : null,
  };
}

function targetStats(y: Float32Array): { mean: number; std: number } {
  const stats = columnStats({ rows: y.length, width: 1, x: y, y });
  return { mean: stats.mean[0], std: stats.std[0] };
}
