// The compiled Dense kernel (serving/kernel.ts) against TensorFlow.js on the real penguins
// table: networks trained by Ouro's own trainer with every activation it offers, each of the
// three output heads (linear with target scaling, sigmoid, softmax), scored on held-out rows
// both ways. The compiled kernel must give tfjs' outputs to float32 precision, and anything
// it cannot compile must fall back to tfjs with a reason.
import * as tf from "@tensorflow/tfjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OuroError } from "../server/src/platform/errors";
import { chooseKernel, erf } from "../server/src/domains/deployments/serving/kernel";
import { featureMatrix } from "../server/src/domains/models/training/data";
import { ISLANDS, MEASUREMENTS, penguinFiles, SPECIES } from "../server/src/domains/models/training/penguins.fixture";
import { loadModel, predictMatrix, type LoadedModel } from "../server/src/domains/models/training/serialize";
import { ACTIVATIONS } from "../server/src/domains/models/training/spec";
import { trainModel } from "../server/src/domains/models/training/train";

const files = penguinFiles();
afterAll(() => files.cleanup());
const noHooks = { onEpoch: () => undefined };

const HEADS = {
  regression: { target: "body_mass", features: ["flipper_length", "beak_length", "beak_depth", ...SPECIES] },
  binary: { target: "sex", features: [...MEASUREMENTS, ...SPECIES] },
  multiclass: { target: "species", features: [...MEASUREMENTS, ...ISLANDS] },
} as const;
type Head = keyof typeof HEADS;

/** Every activation the trainer offers, each on one head in turn, so all heads get several. */
const CASES: { activation: (typeof ACTIVATIONS)[number]; task: Head }[] = ACTIVATIONS.map((activation, i) => ({ activation, task: (["regression", "binary", "multiclass"] as const)[i % 3] }));

async function trained(task: Head, model: Record<string, unknown>): Promise<LoadedModel> {
  const { target, features } = HEADS[task];
  const result = await trainModel({ task, model: model as never, features: [...features], target, trainFile: files.train, seed: 11 }, noHooks);
  // Through JSON, as a model read back from storage.
  return loadModel(JSON.parse(JSON.stringify(result.model)));
}

function heldOut(loaded: LoadedModel): { x: Float32Array; rows: number } {
  const x = featureMatrix(files.testFrame, loaded.saved.signature.features.map((f) => f.name));
  return { x, rows: files.testFrame.height };
}

/** Largest difference relative to the output's scale (1 for probabilities, |value| for regression in target units). */
function worstError(a: Float32Array, b: Float32Array): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
}

const loadedModels: LoadedModel[] = [];
afterAll(() => loadedModels.forEach((m) => m.dispose()));

describe("the compiled Dense kernel computes what TensorFlow.js computes", () => {
  const models = new Map<string, LoadedModel>();
  beforeAll(async () => {
    for (const c of CASES) {
      const m = await trained(c.task, { kind: "mlp", layers: [12, 8], activation: c.activation, epochs: 8 });
      models.set(`${c.activation}/${c.task}`, m);
      loadedModels.push(m);
    }
    for (const task of ["binary", "multiclass"] as const) {
      const m = await trained(task, { kind: "logistic", epochs: 8 });
      models.set(`logistic/${task}`, m);
      loadedModels.push(m);
    }
  }, 240_000);

  it.each(CASES)("$activation hidden layers, $task head: the same outputs on every held-out row", ({ activation, task }) => {
    const loaded = models.get(`${activation}/${task}`)!;
    const kernel = chooseKernel(loaded);
    expect(kernel).toMatchObject({ name: "dense-js", fallbackReason: null });
    const { x, rows } = heldOut(loaded);
    const reference = predictMatrix(loaded, x, rows);
    const compiled = kernel.score(x, rows);
    expect(compiled.length).toBe(reference.length);
    expect(compiled.length).toBe(rows * (task === "multiclass" ? 3 : 1));
    // Not a constant function: a kernel that ignored its input could not pass.
    expect(new Set(Array.from(reference, (v) => v.toFixed(3))).size).toBeGreaterThan(5);
    // float32 arithmetic in a different order: differences at the 7th significant digit.
    expect(worstError(compiled, reference)).toBeLessThan(2e-6);
    if (task === "multiclass") {
      for (let r = 0; r < rows; r++) expect(compiled[r * 3] + compiled[r * 3 + 1] + compiled[r * 3 + 2]).toBeCloseTo(1, 5);
    }
  });

  it("logistic models (a single sigmoid or softmax layer) compile too", () => {
    for (const task of ["binary", "multiclass"] as const) {
      const loaded = models.get(`logistic/${task}`)!;
      const kernel = chooseKernel(loaded);
      expect(kernel.name).toBe("dense-js");
      const { x, rows } = heldOut(loaded);
      expect(worstError(kernel.score(x, rows), predictMatrix(loaded, x, rows))).toBeLessThan(2e-6);
    }
  });

  it("scores one row at a time exactly as in a batch, and batches larger than its buffers", () => {
    const loaded = models.get("relu/regression")!;
    const kernel = chooseKernel(loaded);
    const { x, rows } = heldOut(loaded);
    const width = loaded.saved.signature.features.length;
    const batch = kernel.score(x, rows);
    for (let r = 0; r < rows; r++) expect(kernel.score(x.slice(r * width, (r + 1) * width), 1)[0]).toBe(batch[r]);
    // Five copies of the held-out rows: more than the 64 rows the buffers start with.
    const big = new Float32Array(x.length * 5);
    for (let k = 0; k < 5; k++) big.set(x, k * x.length);
    const out = kernel.score(big, rows * 5);
    for (let k = 0; k < 5; k++) expect(Array.from(out.subarray(k * rows, (k + 1) * rows))).toEqual(Array.from(batch));
    expect(kernel.score(new Float32Array(0), 0)).toHaveLength(0);
  });

  it("refuses a matrix of the wrong width as tfjs' path does", () => {
    const loaded = models.get("relu/regression")!;
    const err = (() => {
      try {
        chooseKernel(loaded).score(new Float32Array(5), 1);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(OuroError);
    expect((err as OuroError).code).toBe("BAD_USER_INPUT");
    expect((err as OuroError).message).toMatch(/expected 6 values per row/);
  });

  it("keeps tfjs when configured to", () => {
    const loaded = models.get("relu/regression")!;
    const kernel = chooseKernel(loaded, "tfjs");
    expect(kernel.name).toBe("tfjs");
    expect(kernel.fallbackReason).toMatch(/OURO_SERVING_KERNEL=tfjs/);
    const { x, rows } = heldOut(loaded);
    expect(Array.from(kernel.score(x, rows))).toEqual(Array.from(predictMatrix(loaded, x, rows)));
  });
});

describe("networks the compiled kernel does not know fall back to tfjs, with the reason", () => {
  let base: LoadedModel;
  beforeAll(async () => {
    base = await trained("regression", { kind: "mlp", layers: [4], epochs: 1 });
    loadedModels.push(base);
  }, 120_000);

  /** The trained model's signature and scaling around a hand-built tfjs network (which a saved model could not carry). */
  const around = (network: tf.LayersModel): LoadedModel => ({ saved: base.saved, network, dispose: () => network.dispose() });

  it("an activation outside its list (relu6)", () => {
    const network = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [6], activation: "relu6" }), tf.layers.dense({ units: 1 })] });
    const loaded = around(network);
    const kernel = chooseKernel(loaded);
    expect(kernel.name).toBe("tfjs");
    expect(kernel.fallbackReason).toMatch(/activation "relu6"/);
    const { x, rows } = heldOut(base);
    expect(Array.from(kernel.score(x, rows))).toEqual(Array.from(predictMatrix(loaded, x, rows)));
    network.dispose();
  });

  it("a layer that is not Dense (batch normalisation)", () => {
    const network = tf.sequential({ layers: [tf.layers.dense({ units: 4, inputShape: [6] }), tf.layers.batchNormalization(), tf.layers.dense({ units: 1 })] });
    const kernel = chooseKernel(around(network));
    expect(kernel.name).toBe("tfjs");
    expect(kernel.fallbackReason).toMatch(/BatchNormalization layer; the compiled kernel takes Dense layers only/);
    network.dispose();
  });
});

describe("erf as tfjs computes it", () => {
  it("matches tf.erf", () => {
    const xs = Array.from({ length: 81 }, (_, i) => (i - 40) / 10);
    const expected = tf.erf(tf.tensor1d(xs)).dataSync();
    xs.forEach((v, i) => expect(Math.abs(erf(v) - expected[i])).toBeLessThan(1e-6));
  });
});
