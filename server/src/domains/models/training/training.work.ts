// Entry points for task subprocesses (platform/subprocess.ts): plain JSON in, plain JSON out,
// progress through report(fraction, message). The subprocess channel only carries a fraction
// and a string, so each epoch's metrics ride in the message as JSON behind a fixed prefix;
// the job side turns them back into metric points with parseEpochProgress.
import type { SubprocessProgress } from "../../../platform/subprocess";
import { featureMatrix, labelStrings, regressionTarget } from "./data";
import { readParquet } from "./dataset";
import { evaluate, type Evaluation } from "./evaluate";
import { LINEAR_CLOSED_FORM_MAX_FEATURES } from "./linear";
import { formatPredictions, loadModel, predictMatrix, type SavedModel } from "./serialize";
import { parseTrainInput, type TrainInput } from "./spec";
import { trainModel, type EpochRecord, type TrainResult } from "./train";

export const EPOCH_PROGRESS_PREFIX = "epoch ";

export function encodeEpochProgress(record: EpochRecord): string {
  return EPOCH_PROGRESS_PREFIX + JSON.stringify(record);
}

/** The epoch record inside a progress message, or null for any other message. */
export function parseEpochProgress(message: string | undefined): EpochRecord | null {
  if (!message?.startsWith(EPOCH_PROGRESS_PREFIX)) return null;
  try {
    const value: unknown = JSON.parse(message.slice(EPOCH_PROGRESS_PREFIX.length));
    if (typeof value !== "object" || value === null) return null;
    const { epoch, metrics } = value as { epoch?: unknown; metrics?: unknown };
    if (typeof epoch !== "number" || typeof metrics !== "object" || metrics === null) return null;
    const numeric = Object.entries(metrics).filter((e): e is [string, number] => typeof e[1] === "number");
    return { epoch, metrics: Object.fromEntries(numeric) };
  } catch {
    return null;
  }
}

/** trainModel in a subprocess; cancellation is the parent killing the process, so no signal here. */
export async function trainTask(input: TrainInput, report: SubprocessProgress): Promise<TrainResult> {
  const resolved = parseTrainInput(input);
  const closedForm = resolved.model.kind === "linear" && resolved.features.length <= LINEAR_CLOSED_FORM_MAX_FEATURES;
  const epochs = closedForm ? 1 : resolved.model.epochs;
  report(0, "loading data");
  return trainModel(input, {
    onEpoch: (epoch, metrics) => report(Math.min(epoch / epochs, 1), encodeEpochProgress({ epoch, metrics })),
  });
}

export interface EvaluateTaskInput {
  model: SavedModel;
  /** Parquet file with the model's feature columns and its target column. */
  file: string;
}

/** Scores a saved model on a Parquet file (e.g. a dataset version after the model's recipe). */
export async function evaluateTask(input: EvaluateTaskInput, report: SubprocessProgress): Promise<Evaluation> {
  const loaded = await loadModel(input.model);
  try {
    const { signature } = loaded.saved;
    report(0, "reading data");
    const frame = readParquet(input.file);
    const x = featureMatrix(frame, signature.features.map((f) => f.name));
    report(0.3, "predicting");
    const predictions = formatPredictions(loaded.saved, predictMatrix(loaded, x, frame.height), frame.height);
    report(0.8, "scoring");
    if (predictions.task === "regression") return evaluate("regression", Array.from(regressionTarget(frame, signature.target)), predictions.values);
    return evaluate(predictions.task, labelStrings(frame, signature.target), predictions.probabilities, predictions.classes);
  } finally {
    loaded.dispose();
  }
}
