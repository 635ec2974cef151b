// Training on the real penguins table; every accuracy is measured on rows no run has seen.
import * as tf from "@tensorflow/tfjs";
import { afterAll, describe, expect, it } from "vitest";
import { OuroError } from "../../../platform/errors";
import { featureMatrix, labelStrings, regressionTarget } from "./data";
import { evaluate, type ClassificationEvaluation, type RegressionEvaluation } from "./evaluate";
import { ISLANDS, MEASUREMENTS, penguinFiles, SPECIES } from "./penguins.fixture";
import { predict, type SavedModel } from "./serialize";
import { trainModel, type TrainInput } from "./train";

const files = penguinFiles();
afterAll(() => files.cleanup());

const SPECIES_FEATURES = [...MEASUREMENTS, ...ISLANDS];
const SEX_FEATURES = [...MEASUREMENTS, ...SPECIES];
const MASS_FEATURES = ["flipper_length", "beak_length", "beak_depth", ...SPECIES];
const noHooks = { onEpoch: () => undefined };

function rowsOf(features: string[]): number[][] {
  const x = featureMatrix(files.testFrame, features);
  return Array.from({ length: files.testFrame.height }, (_, i) => Array.from(x.subarray(i * features.length, (i + 1) * features.length)));
}

/** Scores a saved model on the held-out file through the public predict → evaluate path. */
async function heldOut(model: SavedModel) {
  const { features, target, task } = model.signature;
  const predictions = await predict(model, rowsOf(features.map((f) => f.name)));
  if (predictions.task === "regression") return evaluate("regression", Array.from(regressionTarget(files.testFrame, target)), predictions.values) as RegressionEvaluation;
  return evaluate(task, labelStrings(files.testFrame, target), predictions.probabilities, predictions.classes) as ClassificationEvaluation;
}

const speciesInput = (model: TrainInput["model"], extra: Partial<TrainInput> = {}): TrainInput => ({
  task: "multiclass",
  model,
  features: SPECIES_FEATURES,
  target: "species",
  trainFile: files.train,
  seed: 7,
  ...extra,
});

describe("trainModel on penguins", () => {
  it("trains an MLP with default settings to ≥ 0.95 held-out species accuracy, streaming every epoch", async () => {
    const epochs: { epoch: number; logs: Record<string, number> }[] = [];
    // Default settings: 100 epochs of a 64-32 ReLU MLP, Adam 0.001, batch 32, 20% validation.
    const result = await trainModel(speciesInput({ kind: "mlp" }), { onEpoch: (epoch, logs) => void epochs.push({ epoch, logs }) });
    expect(["wasm", "cpu"]).toContain(result.backend);
    expect(result.backendSkipped.map((s) => s.backend)).toContain("tensorflow");
    expect(epochs.map((e) => e.epoch)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(Object.keys(epochs[0].logs).sort()).toEqual(["accuracy", "loss", "val_accuracy", "val_loss"]);
    expect(epochs[99].logs.loss).toBeLessThan(epochs[0].logs.loss / 3);
    expect(result.params.model).toMatchObject({ kind: "mlp", layers: [64, 32], optimizer: "adam", learningRate: 0.001 });
    expect(result.trainRows + result.validationRows).toBe(files.trainFrame.height);
    expect(result.validation?.metrics.accuracy).toBeGreaterThan(0.9);
    const test = await heldOut(result.model);
    console.info(`species MLP (${result.backend}): held-out accuracy ${test.metrics.accuracy.toFixed(3)}, ${result.timing.epochsPerSecond.toFixed(1)} epochs/s`);
    expect(test.metrics.accuracy).toBeGreaterThanOrEqual(0.95);
  });

  it("trains the logistic baseline (softmax) to ≥ 0.95 held-out accuracy", async () => {
    const result = await trainModel(speciesInput({ kind: "logistic", epochs: 40 }), noHooks);
    expect(result.model.kind).toBe("logistic");
    const test = await heldOut(result.model);
    console.info(`species logistic: held-out accuracy ${test.metrics.accuracy.toFixed(3)}`);
    expect(test.metrics.accuracy).toBeGreaterThanOrEqual(0.95);
  });

  it("trains a binary sex classifier with balanced class weights", async () => {
    const result = await trainModel(
      { task: "binary", model: { kind: "mlp", layers: [32], epochs: 60, classWeights: "balanced" }, features: SEX_FEATURES, target: "sex", trainFile: files.train, seed: 3 },
      noHooks,
    );
    expect(result.model.signature.classes).toEqual(["FEMALE", "MALE"]);
    expect(Object.keys(result.classWeights ?? {})).toEqual(["FEMALE", "MALE"]);
    const test = (await heldOut(result.model)) as ClassificationEvaluation;
    console.info(`sex MLP: held-out accuracy ${test.accuracy.toFixed(3)}, AUC ${test.rocAuc?.toFixed(3)}`);
    expect(test.accuracy).toBeGreaterThan(0.85);
    expect(test.rocAuc).toBeGreaterThan(0.9);
  });

  it("regresses body mass: MLP and the closed-form linear baseline both reach R² > 0.6, in grams", async () => {
    const base = { task: "regression" as const, features: MASS_FEATURES, target: "body_mass", trainFile: files.train, seed: 5 };
    const mlp = await trainModel({ ...base, model: { kind: "mlp", layers: [32], epochs: 60, learningRate: 0.003 } }, noHooks);
    const linear = await trainModel({ ...base, model: { kind: "linear" } }, noHooks);
    expect(Object.keys(mlp.history[0].metrics).sort()).toEqual(["loss", "mae", "val_loss", "val_mae"]);
    expect(linear.solver).toBe("closed_form");
    expect(linear.history).toHaveLength(1);
    const [mlpTest, linearTest] = [(await heldOut(mlp.model)) as RegressionEvaluation, (await heldOut(linear.model)) as RegressionEvaluation];
    console.info(`body mass: MLP R² ${mlpTest.r2?.toFixed(3)}, linear R² ${linearTest.r2?.toFixed(3)} (RMSE ${linearTest.rmse.toFixed(0)} g)`);
    expect(mlpTest.r2).toBeGreaterThan(0.6);
    expect(linearTest.r2).toBeGreaterThan(0.6);
    // MAE is reported in grams, not standardised units: penguins weigh thousands of grams.
    expect(mlp.history[mlp.history.length - 1].metrics.val_mae).toBeGreaterThan(50);
    expect(mlp.history[mlp.history.length - 1].metrics.val_mae).toBeLessThan(600);
  });

  it("uses a separate validation file when given one, and leaves no tensors behind", async () => {
    await trainModel(speciesInput({ kind: "logistic", epochs: 1 }), noHooks); // backend and kernels warmed up
    const before = tf.memory().numTensors;
    const result = await trainModel(speciesInput({ kind: "logistic", epochs: 3 }, { validation: { kind: "file", file: files.test } }), noHooks);
    expect(result.trainRows).toBe(files.trainFrame.height);
    expect(result.validationRows).toBe(files.testFrame.height);
    await predict(result.model, rowsOf(SPECIES_FEATURES));
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe("early stopping and cancellation", () => {
  it("stops once val_loss has not improved for `patience` epochs and keeps the best weights", async () => {
    const result = await trainModel(
      speciesInput({ kind: "logistic", learningRate: 0.2, epochs: 400, earlyStopping: { patience: 4, monitor: "val_loss" } }),
      noHooks,
    );
    expect(result.stopReason).toBe("early_stopping");
    expect(result.epochsRun).toBeLessThan(400);
    expect(result.epochsRun).toBe((result.bestEpoch ?? 0) + 4);
    // The saved model is the best epoch's: its validation log loss is that epoch's val_loss.
    const bestLoss = result.history[(result.bestEpoch ?? 0) - 1].metrics.val_loss;
    expect((result.validation as ClassificationEvaluation).logLoss).toBeCloseTo(bestLoss, 4);
  });

  it("stops within the epoch in which the signal aborts", async () => {
    const controller = new AbortController();
    const result = await trainModel(speciesInput({ kind: "mlp", epochs: 200, batchSize: 8 }), {
      signal: controller.signal,
      onEpoch: (epoch) => {
        // Abort from a timer, i.e. while the next epoch's batches are running.
        if (epoch === 2) setTimeout(() => controller.abort(), 0);
      },
    });
    expect(result.stopReason).toBe("cancelled");
    expect(result.epochsRun).toBeGreaterThanOrEqual(2);
    expect(result.epochsRun).toBeLessThanOrEqual(3);
  });
});

describe("determinism", () => {
  const input = (seed: number, backend: "cpu" | "wasm") =>
    speciesInput({ kind: "mlp", layers: [16, 8], dropout: 0.3, epochs: 8, batchSize: 16 }, { seed, backend });

  it("gives identical losses and weights for the same seed on cpu, and different ones for another seed", async () => {
    const a = await trainModel(input(11, "cpu"), noHooks);
    const b = await trainModel(input(11, "cpu"), noHooks);
    const c = await trainModel(input(12, "cpu"), noHooks);
    expect(a.backend).toBe("cpu");
    expect(b.history).toEqual(a.history);
    expect(b.model.weights).toBe(a.model.weights);
    expect(c.history.map((h) => h.metrics.loss)).not.toEqual(a.history.map((h) => h.metrics.loss));
  });

  it("is reproducible on wasm too", async () => {
    const a = await trainModel(input(11, "wasm"), noHooks);
    const b = await trainModel(input(11, "wasm"), noHooks);
    expect(b.history).toEqual(a.history);
  });
});

describe("bad input is refused before training", () => {
  const refusal = async (input: TrainInput): Promise<string> => {
    const err = await trainModel(input, noHooks).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OuroError);
    expect((err as OuroError).code).toBe("BAD_USER_INPUT");
    return (err as OuroError).message;
  };

  it("names a missing target, a text regression target, a text feature and a mismatched model", async () => {
    expect(await refusal(speciesInput({ kind: "mlp" }, { target: "wingspan" }))).toMatch(/"wingspan" not in the data/);
    expect(await refusal(speciesInput({ kind: "mlp" }, { task: "regression", target: "sex" }))).toMatch(/regression target must be numeric; sex is String/);
    expect(await refusal(speciesInput({ kind: "mlp" }, { features: [...SPECIES_FEATURES, "sex"] }))).toMatch(/sex \(String\).*recipe/);
    expect(await refusal(speciesInput({ kind: "linear" }))).toMatch(/linear is for regression/);
    expect(await refusal(speciesInput({ kind: "mlp", layers: [] }))).toMatch(/model.layers/);
    expect(await refusal(speciesInput({ kind: "mlp", earlyStopping: { patience: 2, monitor: "val_loss" } }, { validation: { kind: "none" } }))).toMatch(/needs validation data/);
  });
});
