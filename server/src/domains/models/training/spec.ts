// What a training job is asked to do, validated before any data is read. The schemas fill in
// defaults, so the resolved input is also what the run records as its parameters: a user
// reading a run sees every setting that shaped the model, not only the ones they typed.
import { z } from "zod";
import { badInput } from "../../../platform/errors";
import { BACKENDS } from "./backend";
import { TASKS } from "./data";

export const ACTIVATIONS = ["relu", "elu", "selu", "tanh", "sigmoid", "swish", "gelu", "linear"] as const;
export const OPTIMIZERS = ["adam", "sgd", "rmsprop"] as const;

const earlyStopping = z.strictObject({
  patience: z.int().min(1).max(10_000),
  monitor: z.literal("val_loss").default("val_loss"),
  /** An improvement smaller than this does not reset the patience counter. */
  minDelta: z.number().min(0).default(0),
  /** Put back the weights of the best epoch when training stops (Keras' default is false; ours is true). */
  restoreBestWeights: z.boolean().default(true),
});

const classWeights = z.union([z.literal("balanced"), z.record(z.string(), z.number().min(0).max(1e6))]);

/** Gradient-training settings; defaults differ by model kind, so each kind builds its own. */
function optimization(defaults: { learningRate: number; batchSize: number; epochs: number }) {
  return {
    optimizer: z.enum(OPTIMIZERS).default("adam"),
    learningRate: z.number().positive().max(10).default(defaults.learningRate),
    batchSize: z.int().min(1).max(1 << 16).default(defaults.batchSize),
    epochs: z.int().min(1).max(100_000).default(defaults.epochs),
    earlyStopping: earlyStopping.optional(),
    classWeights: classWeights.optional(),
    /** L2 penalty on kernels (not biases), added to the loss: l2 · Σw². */
    l2: z.number().min(0).max(10).default(0),
  };
}

export const mlpSpec = z.strictObject({
  kind: z.literal("mlp"),
  /** Units per hidden layer, input side first. */
  layers: z.array(z.int().min(1).max(4096)).min(1).max(16).default([64, 32]),
  activation: z.enum(ACTIVATIONS).default("relu"),
  dropout: z.number().min(0).max(0.9).default(0),
  ...optimization({ learningRate: 0.001, batchSize: 32, epochs: 100 }),
});

/** One dense layer with a sigmoid (binary) or softmax (multiclass) output, trained like the MLP. */
export const logisticSpec = z.strictObject({
  kind: z.literal("logistic"),
  ...optimization({ learningRate: 0.01, batchSize: 32, epochs: 100 }),
});

/**
 * Least squares, solved exactly (normal equations, optional ridge `l2`) when there are at most
 * LINEAR_CLOSED_FORM_MAX_FEATURES features; beyond that one dense unit trained by gradient.
 */
export const linearSpec = z.strictObject({
  kind: z.literal("linear"),
  ...optimization({ learningRate: 0.01, batchSize: 64, epochs: 100 }),
});

export const modelSpec = z.discriminatedUnion("kind", [mlpSpec, logisticSpec, linearSpec]);

const validation = z.discriminatedUnion("kind", [
  z.strictObject({ kind: z.literal("split"), fraction: z.number().gt(0).lt(1).default(0.2) }),
  /** A separate Parquet file with the same columns (e.g. a validation dataset version). */
  z.strictObject({ kind: z.literal("file"), file: z.string().min(1) }),
  z.strictObject({ kind: z.literal("none") }),
]);

const column = z.string().min(1).max(256);

export const trainInputSchema = z.strictObject({
  task: z.enum(TASKS),
  model: modelSpec,
  seed: z.int().min(0).max(2 ** 32 - 1).default(42),
  features: z.array(column).min(1).max(10_000),
  target: column,
  /** Parquet file of the training data (a path: artifact blobs have no extension). */
  trainFile: z.string().min(1),
  validation: validation.default({ kind: "split", fraction: 0.2 }),
  /** Binary only: which label is the positive class (index 1). Default: the second in sorted order. */
  positiveClass: z.string().optional(),
  /** Standardise features (and a regression target) with training-set statistics, saved with the model. */
  standardize: z.boolean().default(true),
  /** Preferred backend; unavailable ones fall back in the usual order. */
  backend: z.enum(["auto", ...BACKENDS]).default("auto"),
});

export type TrainInput = z.input<typeof trainInputSchema>;
export type ResolvedTrainInput = z.output<typeof trainInputSchema>;
export type ModelSpec = z.output<typeof modelSpec>;
export type ModelKind = ModelSpec["kind"];
export type EarlyStopping = z.output<typeof earlyStopping>;

/** Parses and cross-checks a training request; every problem is a BAD_USER_INPUT naming its field. */
export function parseTrainInput(raw: unknown): ResolvedTrainInput {
  const parsed = trainInputSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: i.path.join("."), message: i.message }));
    throw badInput(`invalid training input: ${issues.map((i) => `${i.path || "(input)"}: ${i.message}`).join("; ")}`, { issues });
  }
  const input = parsed.data;
  const { task, model } = input;
  if (model.kind === "linear" && task !== "regression") throw badInput(`model linear is for regression; for a ${task} task use logistic`);
  if (model.kind === "logistic" && task === "regression") throw badInput("model logistic is for classification; for regression use linear");
  if (model.classWeights && task === "regression") throw badInput("classWeights apply to binary and multiclass tasks only");
  if (input.positiveClass !== undefined && task !== "binary") throw badInput("positiveClass applies to binary tasks only");
  if (model.earlyStopping && input.validation.kind === "none") {
    throw badInput("earlyStopping monitors val_loss, which needs validation data: use validation split or file");
  }
  if (new Set(input.features).size !== input.features.length) throw badInput("features repeat a column");
  if (input.features.includes(input.target)) throw badInput(`the target ${input.target} cannot also be a feature`);
  return input;
}
