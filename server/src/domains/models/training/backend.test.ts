import * as tf from "@tensorflow/tfjs";
import { describe, expect, it } from "vitest";
import { selectBackend, selectBackendWithReasons } from "./backend";

describe("selectBackend", () => {
  it("falls back from the missing native binding to wasm (or cpu) and trains on it", async () => {
    const backend = await selectBackend();
    expect(["wasm", "cpu"]).toContain(backend);
    expect(tf.getBackend()).toBe(backend);
    const { skipped } = await selectBackendWithReasons();
    expect(skipped.map((s) => s.backend)).toContain("tensorflow");

    // y = 2x - 1 is learnt by one dense unit: the loss must fall by a lot in a few epochs.
    const xs = tf.tensor2d([-2, -1, 0, 1, 2, 3], [6, 1]);
    const ys = tf.tensor2d([-5, -3, -1, 1, 3, 5], [6, 1]);
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1], kernelInitializer: tf.initializers.zeros() })] });
    model.compile({ optimizer: tf.train.adam(0.1), loss: "meanSquaredError" });
    const history = await model.fit(xs, ys, { epochs: 60, verbose: 0 });
    const losses = history.history.loss as number[];
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] / 10);
    tf.dispose([xs, ys]);
    model.dispose();
  });
});

describe("the wasm BatchMatMul wrapper", () => {
  it("gives the cpu backend's products for every transpose combination, without leaking tensors", async () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[5, 3], [5, 4], true, false],
      [[5, 3], [4, 3], false, true],
      [[3, 5], [4, 3], true, true],
      [[2, 5, 3], [2, 5, 4], true, false],
      [[1, 3], [1, 4], true, false], // size-1 dims: Transpose returns its input, ref-counted
    ];
    const values = (shape: number[]) => Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i + shape.length));
    for (const [shapeA, shapeB, transposeA, transposeB] of cases) {
      const product = (backendNames: ("cpu" | "wasm")[]) =>
        selectBackend(backendNames).then(() =>
          tf.tidy(() => Array.from(tf.matMul(tf.tensor(values(shapeA), shapeA), tf.tensor(values(shapeB), shapeB), transposeA, transposeB).dataSync())),
        );
      const expected = await product(["cpu"]);
      const backend = await selectBackend(["wasm"]);
      if (backend !== "wasm") return; // nothing to check where wasm does not run
      const before = tf.memory().numTensors;
      const actual = await product(["wasm"]);
      expect(tf.memory().numTensors).toBe(before);
      expect(actual).toHaveLength(expected.length);
      actual.forEach((v, i) => expect(v).toBeCloseTo(expected[i], 5));
    }
  });
});
