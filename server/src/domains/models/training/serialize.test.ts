import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OuroError } from "../../../platform/errors";
import { runInSubprocess } from "../../../platform/subprocess";
import type { ClassificationEvaluation } from "./evaluate";
import { ISLANDS, MEASUREMENTS, penguinFiles } from "./penguins.fixture";
import { loadModel, predict, type SavedModel } from "./serialize";
import { trainModel, type TrainResult } from "./train";
import { parseEpochProgress } from "./training.work";

const files = penguinFiles();
afterAll(() => files.cleanup());
const FEATURES = [...MEASUREMENTS, ...ISLANDS];

let saved: SavedModel;
beforeAll(async () => {
  // Dropout on: the saved model must still contain nothing but Dense layers.
  const result = await trainModel(
    { task: "multiclass", model: { kind: "mlp", layers: [16], dropout: 0.2, epochs: 40 }, features: FEATURES, target: "species", trainFile: files.train, seed: 1 },
    { onEpoch: () => undefined },
  );
  saved = result.model;
});

const rows = [
  [39.1, 18.7, 181, 3750, 0, 0, 1],
  [46.5, 17.9, 192, 3500, 0, 1, 0],
  [50.0, 15.2, 218, 5700, 1, 0, 0],
];

/** A deep copy through JSON, as a model read back from storage would be. */
const fromJson = (model: SavedModel): SavedModel => JSON.parse(JSON.stringify(model)) as SavedModel;

const rejected = async (tamper: (m: SavedModel & Record<string, unknown>) => void): Promise<string> => {
  const copy = fromJson(saved) as SavedModel & Record<string, unknown>;
  tamper(copy);
  const err = await loadModel(copy).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(OuroError);
  expect((err as OuroError).code).toBe("BAD_USER_INPUT");
  return (err as OuroError).message;
};

const firstLayer = (m: SavedModel) => ((m.topology.config as { layers: { class_name: string; config: Record<string, unknown> }[] }).layers[0]);

describe("saved models", () => {
  it("are plain JSON: Dense layers only, float32 weights, the signature", () => {
    const json = JSON.stringify(saved);
    expect(json).not.toContain("Dropout");
    expect([...json.matchAll(/"class_name":"(\w+)"/g)].map((m) => m[1]).filter((c, i, all) => all.indexOf(c) === i).sort()).toEqual(["Dense", "Sequential", "Zeros"]);
    expect(saved.signature).toMatchObject({ target: "species", task: "multiclass", classes: ["Adelie", "Chinstrap", "Gentoo"] });
    expect(saved.signature.features.map((f) => [f.name, f.sourceType])).toContainEqual(["flipper_length", "Int64"]);
    expect(saved.weightSpecs.map((s) => s.name)).toEqual(["hidden_1/kernel", "hidden_1/bias", "output/kernel", "output/bias"]);
  });

  it("load back from JSON and predict exactly what the original predicts", async () => {
    const direct = await predict(saved, rows);
    const loaded = await loadModel(fromJson(saved));
    const again = await predict(loaded, rows);
    const twice = await predict(loaded, rows);
    loaded.dispose();
    expect(again).toEqual(direct);
    expect(twice).toEqual(direct);
    if (direct.task === "regression") throw new Error("expected class probabilities");
    expect(direct.labels).toEqual(["Adelie", "Chinstrap", "Gentoo"]);
    for (const p of direct.probabilities) expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
  });

  it("refuse rows of the wrong width or with non-numbers", async () => {
    await expect(predict(saved, [[1, 2, 3]])).rejects.toThrow(/row 0 has 3 values; the model takes 7/);
    await expect(predict(saved, [[NaN, 0, 0, 0, 0, 0, 0]])).rejects.toThrow(/beak_length: NaN is not a finite number/);
  });
});

describe("tampered saved models are rejected before tfjs builds anything", () => {
  it("an unknown layer class", async () => {
    expect(await rejected((m) => (firstLayer(m).class_name = "Lambda"))).toMatch(/class "Lambda"/);
    expect(await rejected((m) => (firstLayer(m).class_name = "OuroSeededDropout"))).toMatch(/OuroSeededDropout/);
  });

  it("an unknown class nested in a layer's config (initialiser, regulariser)", async () => {
    expect(await rejected((m) => (firstLayer(m).config.kernel_regularizer = { class_name: "L1L2", config: { l2: 0.1 } }))).toMatch(/class "L1L2"/);
  });

  it("an activation outside the allowlist", async () => {
    expect(await rejected((m) => (firstLayer(m).config.activation = "require('child_process')"))).toMatch(/activation/);
  });

  it("weights that do not match the layers", async () => {
    expect(await rejected((m) => (m.weights = m.weights.slice(0, m.weights.length - 8)))).toMatch(/bytes of weights/);
    expect(await rejected((m) => (m.weightSpecs[0].shape = [6, 16]))).toMatch(/weightSpecs do not match/);
    expect(await rejected((m) => (m.weights = `!${m.weights.slice(1)}`))).toMatch(/not base64/);
    const withNaN = (base64: string) => {
      const bytes = Buffer.from(base64, "base64");
      bytes.writeFloatLE(NaN, 0);
      return bytes.toString("base64");
    };
    expect(await rejected((m) => (m.weights = withNaN(m.weights)))).toMatch(/NaN/);
  });

  it("a signature that does not fit the network, a wrong format, extra keys", async () => {
    const dropLastFeature = (m: SavedModel) => {
      m.signature.features.pop();
      m.inputScaling?.mean.pop();
      m.inputScaling?.std.pop();
    };
    expect(await rejected(dropLastFeature)).toMatch(/first layer must take 6 inputs/);
    expect(await rejected((m) => (m.signature.classes = ["a", "b"]))).toMatch(/last layer has 3 outputs/);
    expect(await rejected((m) => (m.format = "keras.h5" as SavedModel["format"]))).toMatch(/format/);
    expect(await rejected((m) => (m.extra = "code"))).toMatch(/not a valid saved model/);
    await expect(loadModel("not json at all")).rejects.toThrow(OuroError);
  });
});

describe("task subprocess entry points", () => {
  it("train in a child process, streaming epochs as progress, and evaluate there", async () => {
    const work = `${__dirname}/training.work.ts`;
    const epochs: number[] = [];
    const result = await runInSubprocess<unknown, TrainResult>(
      work,
      "trainTask",
      { task: "multiclass", model: { kind: "logistic", epochs: 5 }, features: FEATURES, target: "species", trainFile: files.train, seed: 2 },
      { onProgress: (_fraction, message) => void (parseEpochProgress(message) && epochs.push(parseEpochProgress(message)?.epoch ?? -1)) },
    );
    expect(epochs).toEqual([1, 2, 3, 4, 5]);
    expect(["wasm", "cpu"]).toContain(result.backend);
    const evaluation = await runInSubprocess<unknown, ClassificationEvaluation>(work, "evaluateTask", { model: result.model, file: files.test });
    expect(evaluation.rows).toBe(files.testFrame.height);
    expect(evaluation.accuracy).toBeGreaterThan(0.8);
  });

  it("keep BAD_USER_INPUT across the process boundary", async () => {
    const err = await runInSubprocess(`${__dirname}/training.work.ts`, "trainTask", { task: "regression", model: { kind: "linear" }, features: FEATURES, target: "species", trainFile: files.train }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((err as OuroError).code).toBe("BAD_USER_INPUT");
    expect((err as OuroError).message).toMatch(/regression target must be numeric/);
  });
});
