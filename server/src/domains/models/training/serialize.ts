// Saving a trained network as plain data, loading it back, and predicting with it.
import * as tf from "@tensorflow/tfjs";
import { badInput } from "../../../platform/errors";
import { selectBackend } from "./backend";
import { standardize } from "./data";
import { encodeWeights, parseSavedModel, SAVED_MODEL_FORMAT, type JsonObject, type SavedModel } from "./saved-model";

export type { SavedModel } from "./saved-model";

/** A saved model with its network built; reuse it for many predictions, then dispose(). */
export interface LoadedModel {
  saved: SavedModel;
  network: tf.LayersModel;
  dispose(): void;
}

export type Predictions =
  | { task: "regression"; values: number[] }
  | {
      task: "binary" | "multiclass";
      classes: string[];
      /** One row per example, a probability per class in `classes` order. */
      probabilities: number[][];
      /** The predicted class: the positive class when its probability is ≥ 0.5 (binary), else the most probable. */
      labels: string[];
    };

export type SavedModelMeta = Omit<SavedModel, "format" | "topology" | "weightSpecs" | "weights">;

/** Captures the network's topology JSON and weights through tfjs' save-handler API, without touching disk. */
export async function saveModel(network: tf.LayersModel, meta: SavedModelMeta): Promise<SavedModel> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await network.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: "JSON" } };
    }),
  );
  if (!artifacts?.modelTopology || !artifacts.weightSpecs || !artifacts.weightData) throw new Error("tfjs produced no model artifacts");
  const parts = Array.isArray(artifacts.weightData) ? artifacts.weightData : [artifacts.weightData];
  const total = parts.reduce((n, p) => n + p.byteLength, 0);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    bytes.set(new Uint8Array(part), offset);
    offset += part.byteLength;
  }
  const saved: SavedModel = {
    format: SAVED_MODEL_FORMAT,
    ...meta,
    // A JSON round trip: a plain object with nothing but JSON values, as it will be stored.
    topology: JSON.parse(JSON.stringify(artifacts.modelTopology)) as JsonObject,
    weightSpecs: artifacts.weightSpecs.map((s) => ({ name: s.name, shape: [...s.shape], dtype: "float32" as const })),
    weights: encodeWeights(new Float32Array(bytes.buffer)),
  };
  // What we write must be what we accept: validate now rather than when someone loads it.
  parseSavedModel(saved);
  return saved;
}

/**
 * Validates a saved model (see saved-model.ts) and builds its network from the JSON topology
 * and float weights with tf.loadLayersModel(tf.io.fromMemory(...)). No code comes from the
 * artifact: unknown layer, initialiser or activation names are refused before tfjs sees them.
 */
export async function loadModel(raw: unknown): Promise<LoadedModel> {
  const { saved, weightData } = parseSavedModel(raw);
  await selectBackend();
  const weightBuffer = weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength);
  let network: tf.LayersModel;
  try {
    network = await tf.loadLayersModel(
      tf.io.fromMemory({ modelTopology: saved.topology, weightSpecs: saved.weightSpecs, weightData: weightBuffer as ArrayBuffer }),
    );
  } catch (err) {
    throw badInput(`not a valid saved model: ${err instanceof Error ? err.message : String(err)}`);
  }
  return { saved, network, dispose: () => network.dispose() };
}

/**
 * Raw model outputs for a row-major float32 matrix: probabilities (binary: of the positive
 * class; multiclass: one per class) or values in target units. Used by training's own
 * validation so it scores exactly what will be saved.
 */
export function predictMatrix(model: LoadedModel, x: Float32Array, rows: number): Float32Array {
  const { saved, network } = model;
  const width = saved.signature.features.length;
  if (x.length !== rows * width) throw badInput(`expected ${width} values per row (features: ${saved.signature.features.map((f) => f.name).join(", ")})`);
  if (rows === 0) return new Float32Array(0);
  const input = saved.inputScaling ? standardize(x, width, saved.inputScaling) : x;
  const output = tf.tidy(() => network.predict(tf.tensor2d(input, [rows, width])) as tf.Tensor);
  const values = output.dataSync() as Float32Array;
  output.dispose();
  if (saved.targetScaling) {
    const { mean, std } = saved.targetScaling;
    return values.map((v) => v * std + mean);
  }
  return values;
}

/** Predictions for rows of feature values in signature order. Accepts a saved model (loaded and disposed here) or a loaded one. */
export async function predict(model: SavedModel | LoadedModel, rows: readonly (readonly number[])[]): Promise<Predictions> {
  const owned = "network" in model ? undefined : await loadModel(model);
  const loaded = owned ?? (model as LoadedModel);
  try {
    const { signature } = loaded.saved;
    const width = signature.features.length;
    const x = new Float32Array(rows.length * width);
    rows.forEach((row, i) => {
      if (row.length !== width) throw badInput(`row ${i} has ${row.length} values; the model takes ${width} (${signature.features.map((f) => f.name).join(", ")})`);
      row.forEach((v, j) => {
        if (typeof v !== "number" || !Number.isFinite(v)) throw badInput(`row ${i}, feature ${signature.features[j].name}: ${String(v)} is not a finite number`);
        x[i * width + j] = v;
      });
    });
    return formatPredictions(loaded.saved, predictMatrix(loaded, x, rows.length), rows.length);
  } finally {
    owned?.dispose();
  }
}

export function formatPredictions(saved: SavedModel, output: Float32Array, rows: number): Predictions {
  const { task, classes } = saved.signature;
  if (task === "regression" || !classes) return { task: "regression", values: Array.from(output) };
  const probabilities: number[][] = [];
  const labels: string[] = [];
  for (let i = 0; i < rows; i++) {
    const row = task === "binary" ? [1 - output[i], output[i]] : Array.from(output.subarray(i * classes.length, (i + 1) * classes.length));
    probabilities.push(row);
    const best = task === "binary" ? (row[1] >= 0.5 ? 1 : 0) : row.indexOf(Math.max(...row));
    labels.push(classes[best]);
  }
  return { task, classes, probabilities, labels };
}
