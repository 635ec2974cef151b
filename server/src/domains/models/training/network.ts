// The networks: a training network (with dropout) and the inference network that is saved.
//
// Two networks because of dropout and determinism. tfjs' Dropout layer takes a seed, but a
// fixed seed draws the *same* mask for every batch, and without one it draws from
// Math.random, which cannot be seeded. SeededDropout below draws a fresh mask per batch from
// (seed, step). It exists only while training: dropout is the identity at inference, so the
// saved network is the same stack of Dense layers without it, and a saved model never needs a
// custom layer class to load.
import * as tf from "@tensorflow/tfjs";
import type { Task } from "./data";
import { deriveSeed } from "./random";
import type { ModelSpec } from "./spec";

class SeededDropout extends tf.layers.Layer {
  static readonly className = "OuroSeededDropout";
  private step = 0;

  constructor(
    private readonly rate: number,
    private readonly seed: number,
    name: string,
  ) {
    super({ name, trainable: false });
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Record<string, unknown>): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    if (kwargs.training !== true || this.rate === 0) return x;
    // A new string seed per batch: alea(seed) gives a fresh, reproducible mask each step.
    return tf.dropout(x, this.rate, undefined, `${this.seed}:${this.step++}`);
  }

  override computeOutputShape(shape: tf.Shape | tf.Shape[]): tf.Shape | tf.Shape[] {
    return shape;
  }

  override getClassName(): string {
    return SeededDropout.className;
  }
}

export interface NetworkShape {
  inputWidth: number;
  task: Task;
  /** Output units: 1 for binary and regression, the number of classes for multiclass. */
  outputUnits: number;
}

export const outputUnitsFor = (task: Task, classes: string[] | null): number => (task === "multiclass" ? (classes?.length ?? 0) : 1);

const outputActivation = (task: Task) => (task === "binary" ? "sigmoid" : task === "multiclass" ? "softmax" : "linear");

/** Units of each hidden layer; the baselines have none. */
const hiddenLayers = (spec: ModelSpec): number[] => (spec.kind === "mlp" ? spec.layers : []);

/**
 * The network that trains. Initialisers get seeds derived from the run seed (per layer), so
 * the starting weights are reproducible; Glorot for the output and tanh/sigmoid layers, He
 * for the ReLU family, as those activations are meant to be initialised.
 */
export function buildTrainingNetwork(spec: ModelSpec, shape: NetworkShape, seed: number): tf.Sequential {
  const model = tf.sequential({ name: "ouro_training" });
  const l2 = spec.l2 > 0 ? tf.regularizers.l2({ l2: spec.l2 }) : undefined;
  const activation = spec.kind === "mlp" ? spec.activation : "linear";
  const reluFamily = ["relu", "elu", "selu", "swish", "gelu"].includes(activation);
  hiddenLayers(spec).forEach((units, i) => {
    const layerSeed = deriveSeed(seed, `hidden_${i + 1}`);
    model.add(
      tf.layers.dense({
        name: `hidden_${i + 1}`,
        units,
        activation,
        ...(i === 0 ? { inputShape: [shape.inputWidth] } : {}),
        kernelInitializer: reluFamily ? tf.initializers.heNormal({ seed: layerSeed }) : tf.initializers.glorotUniform({ seed: layerSeed }),
        kernelRegularizer: l2,
      }),
    );
    if (spec.kind === "mlp" && spec.dropout > 0) model.add(new SeededDropout(spec.dropout, deriveSeed(seed, `dropout_${i + 1}`), `dropout_${i + 1}`));
  });
  model.add(
    tf.layers.dense({
      name: "output",
      units: shape.outputUnits,
      activation: outputActivation(shape.task),
      ...(hiddenLayers(spec).length === 0 ? { inputShape: [shape.inputWidth] } : {}),
      kernelInitializer: tf.initializers.glorotUniform({ seed: deriveSeed(seed, "output") }),
      kernelRegularizer: l2,
    }),
  );
  return model;
}

/**
 * The network that is saved: the Dense layers of the training network, without dropout or
 * regularisers, carrying the trained weights. Zero initialisers, since every weight is set.
 */
export function toInferenceNetwork(trained: tf.LayersModel, spec: ModelSpec, shape: NetworkShape): tf.Sequential {
  const model = buildInferenceNetwork(spec, shape);
  const dense = trained.layers.filter((layer) => layer.getClassName() === "Dense");
  model.setWeights(dense.flatMap((layer) => layer.getWeights()));
  return model;
}

export function buildInferenceNetwork(spec: ModelSpec, shape: NetworkShape): tf.Sequential {
  const model = tf.sequential({ name: "ouro_model" });
  const activation = spec.kind === "mlp" ? spec.activation : "linear";
  const hidden = hiddenLayers(spec);
  hidden.forEach((units, i) => {
    model.add(tf.layers.dense({ name: `hidden_${i + 1}`, units, activation, ...(i === 0 ? { inputShape: [shape.inputWidth] } : {}), kernelInitializer: "zeros" }));
  });
  model.add(
    tf.layers.dense({
      name: "output",
      units: shape.outputUnits,
      activation: outputActivation(shape.task),
      ...(hidden.length === 0 ? { inputShape: [shape.inputWidth] } : {}),
      kernelInitializer: "zeros",
    }),
  );
  return model;
}

export function makeOptimizer(spec: ModelSpec): tf.Optimizer {
  switch (spec.optimizer) {
    case "adam":
      return tf.train.adam(spec.learningRate);
    case "sgd":
      return tf.train.sgd(spec.learningRate);
    case "rmsprop":
      return tf.train.rmsprop(spec.learningRate);
  }
}

export function lossFor(task: Task): string {
  return task === "binary" ? "binaryCrossentropy" : task === "multiclass" ? "categoricalCrossentropy" : "meanSquaredError";
}
