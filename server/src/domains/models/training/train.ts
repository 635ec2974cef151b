// Training: Parquet in, a saved model, its per-epoch curves and a validation evaluation out.
//
// Epochs are driven here, one model.fit({epochs: 1}) at a time, rather than by one fit over
// all epochs, because three things need the gap between epochs: the batch order is shuffled
// with our seeded generator (fit's own shuffle uses Math.random, so runs would differ), the
// caller's onEpoch is awaited (back-pressure for live metrics), and early stopping and
// cancellation are checked.
import * as tf from "@tensorflow/tfjs";
import { badInput } from "../../../platform/errors";
import { BACKENDS, selectBackendWithReasons, type BackendChoice, type BackendName } from "./backend";
import { loadTrainingData, type TrainingData } from "./dataset";
import { evaluateClassification, evaluateRegression, type Evaluation } from "./evaluate";
import { LINEAR_CLOSED_FORM_MAX_FEATURES, solveLeastSquares } from "./linear";
import { buildInferenceNetwork, buildTrainingNetwork, lossFor, makeOptimizer, outputUnitsFor, toInferenceNetwork, type NetworkShape } from "./network";
import { deriveSeed, permutation, seededRandom } from "./random";
import { predictMatrix, saveModel, type SavedModel } from "./serialize";
import { parseTrainInput, type ModelSpec, type ResolvedTrainInput, type TrainInput } from "./spec";

export type { TrainInput } from "./spec";

export interface TrainHooks {
  /** After each completed epoch (numbered from 1); awaited before the next epoch starts. */
  onEpoch(epoch: number, logs: Record<string, number>): Promise<void> | void;
  /** After each batch (numbered from 0 within its epoch), for live per-batch curves. Not awaited. */
  onBatch?(epoch: number, batch: number, logs: Record<string, number>): void;
  /** Aborting stops training within a batch; the result then has stopReason "cancelled". */
  signal?: AbortSignal;
}

export interface EpochRecord {
  epoch: number;
  metrics: Record<string, number>;
}

export type StopReason = "completed" | "early_stopping" | "cancelled";

export interface TrainResult {
  backend: BackendName;
  /** Faster backends that were tried and why they were skipped (e.g. tfjs-node not installed). */
  backendSkipped: BackendChoice["skipped"];
  /** The trained model (the best epoch's weights when early stopping restores them). */
  model: SavedModel;
  /** Every setting, defaults filled in: what the run should record as its parameters. */
  params: ResolvedTrainInput;
  /** How the linear baseline was fitted; "gradient" for every other model. */
  solver: "closed_form" | "gradient";
  history: EpochRecord[];
  epochsRun: number;
  /** The epoch with the lowest val_loss; null without validation data. */
  bestEpoch: number | null;
  stopReason: StopReason;
  trainRows: number;
  validationRows: number;
  /** Class weights used, by label; null when none. */
  classWeights: Record<string, number> | null;
  /** The saved model scored on the validation data; null without validation data. */
  validation: Evaluation | null;
  timing: { totalMs: number; trainingMs: number; epochsPerSecond: number; rowsPerSecond: number };
}

/** Trains a model as `rawInput` describes (validated here; bad input is a BAD_USER_INPUT before any work). */
export async function trainModel(rawInput: TrainInput, hooks: TrainHooks): Promise<TrainResult> {
  const started = performance.now();
  const input = parseTrainInput(rawInput);
  const choice = await selectBackendWithReasons(input.backend === "auto" ? BACKENDS : [input.backend]);
  const data = loadTrainingData(input);
  const shape: NetworkShape = { inputWidth: data.train.width, task: input.task, outputUnits: outputUnitsFor(input.task, data.classes) };
  const spec = input.model;

  const trainingStarted = performance.now();
  const closedForm = spec.kind === "linear" && data.train.width <= LINEAR_CLOSED_FORM_MAX_FEATURES;
  const outcome = closedForm ? fitClosedForm(data, spec, shape) : await fitByGradient(data, input, shape, hooks);
  const trainingMs = performance.now() - trainingStarted;

  try {
    if (closedForm) for (const record of outcome.history) await hooks.onEpoch(record.epoch, record.metrics);
    const model = await saveModel(outcome.network, {
      kind: spec.kind,
      signature: {
        features: input.features.map((name, j) => ({ name, dtype: "float32", sourceType: data.sourceTypes[j] })),
        target: input.target,
        task: input.task,
        classes: data.classes,
      },
      inputScaling: data.inputScaling,
      targetScaling: data.targetScaling,
    });
    const validation = data.validation ? scoreValidation(model, outcome.network, data) : null;
    const epochsRun = outcome.history.length;
    const trainingSeconds = Math.max(trainingMs, 1e-3) / 1000;
    return {
      backend: choice.backend,
      backendSkipped: choice.skipped,
      model,
      params: input,
      solver: closedForm ? "closed_form" : "gradient",
      history: outcome.history,
      epochsRun,
      bestEpoch: bestEpochOf(outcome.history),
      stopReason: outcome.stopReason,
      trainRows: data.train.rows,
      validationRows: data.validation?.rows ?? 0,
      classWeights: data.classWeightsByLabel,
      validation,
      timing: {
        totalMs: performance.now() - started,
        trainingMs,
        epochsPerSecond: epochsRun / trainingSeconds,
        rowsPerSecond: (epochsRun * data.train.rows) / trainingSeconds,
      },
    };
  } finally {
    outcome.network.dispose();
  }
}

interface FitOutcome {
  /** The inference network (Dense layers only) holding the final weights. */
  network: tf.LayersModel;
  history: EpochRecord[];
  stopReason: StopReason;
}

function fitClosedForm(data: TrainingData, spec: ModelSpec, shape: NetworkShape): FitOutcome {
  const { train, validation } = data;
  const { kernel, bias } = solveLeastSquares(train.x, train.y, train.rows, train.width, spec.l2);
  const network = buildInferenceNetwork(spec, shape);
  const weights = [tf.tensor2d(kernel, [train.width, 1]), tf.tensor1d([bias])];
  network.setWeights(weights);
  tf.dispose(weights);
  // One "epoch" of curves in the same units gradient training reports, so runs compare.
  const metrics = regressionLogs(kernel, bias, train, data.targetScaling, "");
  if (validation) Object.assign(metrics, regressionLogs(kernel, bias, validation, data.targetScaling, "val_"));
  return { network, history: [{ epoch: 1, metrics }], stopReason: "completed" };
}

/** MSE and MAE of a linear model on (scaled) data, reported in target units. */
function regressionLogs(kernel: number[], bias: number, part: TrainingData["train"], scaling: TrainingData["targetScaling"], prefix: string): Record<string, number> {
  const std = scaling?.std ?? 1;
  let se = 0;
  let ae = 0;
  for (let i = 0; i < part.rows; i++) {
    let p = bias;
    for (let j = 0; j < part.width; j++) p += kernel[j] * part.x[i * part.width + j];
    const r = (part.y[i] - p) * std;
    se += r * r;
    ae += Math.abs(r);
  }
  return { [`${prefix}loss`]: se / part.rows, [`${prefix}mae`]: ae / part.rows };
}

async function fitByGradient(data: TrainingData, input: ResolvedTrainInput, shape: NetworkShape, hooks: TrainHooks): Promise<FitOutcome> {
  const spec = input.model;
  const { task } = input;
  const network = buildTrainingNetwork(spec, shape, input.seed);
  const optimizer = makeOptimizer(spec);
  network.compile({ optimizer, loss: lossFor(task), metrics: task === "regression" ? ["mae"] : ["accuracy"] });
  const held: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => (held.push(t), t);
  const x = keep(tf.tensor2d(data.train.x, [data.train.rows, data.train.width]));
  const y = keep(labelTensor(data.train.y, shape));
  const validationData: [tf.Tensor, tf.Tensor] | undefined = data.validation
    ? [keep(tf.tensor2d(data.validation.x, [data.validation.rows, data.validation.width])), keep(labelTensor(data.validation.y, shape))]
    : undefined;
  const batchOrder = seededRandom(deriveSeed(input.seed, "batches"));
  const history: EpochRecord[] = [];
  let stopReason: StopReason = "completed";
  let best = Infinity;
  let waited = 0;
  let bestWeights: tf.Tensor[] | null = null;
  const early = spec.earlyStopping;

  try {
    for (let epoch = 1; epoch <= spec.epochs; epoch++) {
      // fit() only yields to the event loop every 125 ms *within* one call, so a run of short
      // epochs would never let a timer or an I/O callback (the very thing that aborts) run.
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (hooks.signal?.aborted) {
        stopReason = "cancelled";
        break;
      }
      const order = tf.tensor1d(Int32Array.from(permutation(data.train.rows, batchOrder)), "int32");
      const xs = tf.gather(x, order);
      const ys = tf.gather(y, order);
      let fitted: tf.History;
      try {
        fitted = await network.fit(xs, ys, {
          epochs: 1,
          batchSize: spec.batchSize,
          shuffle: false,
          verbose: 0,
          validationData,
          classWeight: data.classWeights ?? undefined,
          callbacks: {
            onBatchEnd: async (batch, logs) => {
              // Checked every batch, so an abort lands within one batch, not one epoch.
              if (hooks.signal?.aborted) network.stopTraining = true;
              if (hooks.onBatch && logs) hooks.onBatch(epoch, batch, epochLogs(logs, data.targetScaling));
            },
          },
        });
      } finally {
        tf.dispose([order, xs, ys]);
      }
      // An epoch cut short by cancellation is not reported: its numbers describe part of an epoch.
      if (hooks.signal?.aborted) {
        stopReason = "cancelled";
        break;
      }
      const logs = epochLogs(lastOfHistory(fitted.history), data.targetScaling);
      if (!Number.isFinite(logs.loss)) {
        throw badInput(`training diverged at epoch ${epoch} (loss ${logs.loss}); lower the learning rate${input.standardize ? "" : " or standardize the features"}`);
      }
      history.push({ epoch, metrics: logs });
      await hooks.onEpoch(epoch, logs);

      if (early) {
        const monitored = logs[early.monitor];
        if (monitored < best - early.minDelta) {
          best = monitored;
          waited = 0;
          if (early.restoreBestWeights) {
            if (bestWeights) tf.dispose(bestWeights);
            bestWeights = network.getWeights().map((w) => w.clone());
          }
        } else if (++waited >= early.patience) {
          stopReason = "early_stopping";
          break;
        }
      }
    }
    if (bestWeights) network.setWeights(bestWeights);
    return { network: toInferenceNetwork(network, spec, shape), history, stopReason };
  } finally {
    tf.dispose(held);
    if (bestWeights) tf.dispose(bestWeights);
    network.dispose();
    optimizer.dispose();
  }
}

/** Targets shaped for the loss: [n,1] for binary and regression, one-hot [n,k] for multiclass. */
function labelTensor(y: Float32Array, shape: NetworkShape): tf.Tensor {
  if (shape.task !== "multiclass") return tf.tensor2d(y, [y.length, 1]);
  return tf.tidy(() => tf.oneHot(tf.tensor1d(Int32Array.from(y), "int32"), shape.outputUnits).toFloat());
}

function lastOfHistory(history: Record<string, (number | tf.Tensor)[]>): Record<string, number> {
  const logs: Record<string, number> = {};
  for (const [key, values] of Object.entries(history)) {
    const last = values[values.length - 1];
    logs[key] = typeof last === "number" ? last : (last.dataSync()[0] ?? NaN);
  }
  return logs;
}

/**
 * tfjs' log names made stable ("acc" → "accuracy"), and regression numbers turned back into
 * target units: the network learns a standardised target, but a user reads MSE and MAE in
 * grams or minutes. (With an l2 penalty the loss also includes the penalty, scaled alike.)
 */
function epochLogs(raw: Record<string, number>, targetScaling: TrainingData["targetScaling"]): Record<string, number> {
  const logs: Record<string, number> = {};
  const std = targetScaling?.std ?? 1;
  for (const [key, value] of Object.entries(raw)) {
    if (key === "batch" || key === "size") continue; // per-batch bookkeeping, not metrics
    const name = key.replace(/(^|_)acc$/, "$1accuracy");
    const base = name.replace(/^val_/, "");
    logs[name] = base === "loss" ? value * std * std : base === "mae" ? value * std : value;
  }
  return logs;
}

function bestEpochOf(history: EpochRecord[]): number | null {
  let best: EpochRecord | null = null;
  for (const record of history) {
    const v = record.metrics.val_loss;
    if (v !== undefined && (best === null || v < (best.metrics.val_loss as number))) best = record;
  }
  return best?.epoch ?? null;
}

/** Scores the model as saved (scaling and all) on the validation rows in their original units. */
function scoreValidation(model: SavedModel, network: tf.LayersModel, data: TrainingData): Evaluation {
  const part = data.validationRaw;
  if (!part) throw new Error("no validation data");
  const output = predictMatrix({ saved: model, network, dispose: () => undefined }, part.x, part.rows);
  if (model.signature.task === "regression") return evaluateRegression(Array.from(part.y), Array.from(output));
  const classes = data.classes as string[];
  const task = model.signature.task;
  const proba: number[][] = [];
  for (let i = 0; i < part.rows; i++) {
    proba.push(task === "binary" ? [1 - output[i], output[i]] : Array.from(output.subarray(i * classes.length, (i + 1) * classes.length)));
  }
  return evaluateClassification(task, Array.from(part.y), proba, classes);
}
