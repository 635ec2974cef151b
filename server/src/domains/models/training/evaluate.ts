// Model evaluation: classification and regression metrics from truths and predictions.
// Pure TypeScript (no tensors), so a stored evaluation can be recomputed anywhere and tested
// against numbers worked out by hand.
import { badInput } from "../../../platform/errors";
import { binaryRanking, type PrPoint, type RocPoint } from "./curves";
import { sortLabels, type Task } from "./data";

export const RESIDUAL_BINS = 20;
/** Probabilities are clipped to [ε, 1 − ε] for log loss, so one confident mistake costs a lot but not Infinity. */
const LOG_LOSS_EPSILON = 1e-15;

export interface ClassReport {
  class: string;
  precision: number;
  recall: number;
  f1: number;
  /** Rows whose true label is this class. */
  support: number;
}

export interface ClassCurves {
  /** The class scored one-vs-rest (binary: the positive class only). */
  class: string;
  rocAuc: number | null;
  averagePrecision: number | null;
  roc: RocPoint[];
  pr: PrPoint[];
}

export interface ClassificationEvaluation {
  task: "binary" | "multiclass";
  rows: number;
  classes: string[];
  accuracy: number;
  precisionMacro: number;
  recallMacro: number;
  f1Macro: number;
  /** Binary: the usual AUC of the positive class. Multiclass: the mean of one-vs-rest AUCs of classes present. */
  rocAuc: number | null;
  logLoss: number;
  perClass: ClassReport[];
  /** confusionMatrix[true][predicted], in `classes` order. */
  confusionMatrix: number[][];
  curves: ClassCurves[];
  /** The scalar metrics under stable names, ready to log on a run. */
  metrics: Record<string, number>;
}

export interface RegressionEvaluation {
  task: "regression";
  rows: number;
  rmse: number;
  mae: number;
  /** Null when the truth is constant (R² is undefined then). */
  r2: number | null;
  /** Mean of truth − prediction: a model that is systematically low has a positive bias. */
  meanResidual: number;
  /** Truth − prediction in RESIDUAL_BINS equal-width bins; `edges` has one more entry than `counts`. */
  residualHistogram: { edges: number[]; counts: number[] };
  metrics: Record<string, number>;
}

export type Evaluation = ClassificationEvaluation | RegressionEvaluation;
export type Label = string | number | boolean;

/**
 * Evaluates predictions against truths.
 * - regression: `yTrue` and `yPred` are numbers.
 * - binary: `yTrue` are labels; `yPred` the probability of the positive class (`classes[1]`)
 *   per row, or rows of [p(classes[0]), p(classes[1])].
 * - multiclass: `yTrue` are labels; `yPred` rows of probabilities in `classes` order.
 * Labels compare as strings (1 and "1" are the same class). Without `classes` they are the
 * sorted distinct labels of `yTrue`.
 */
export function evaluate(task: Task, yTrue: readonly Label[], yPred: readonly number[] | readonly (readonly number[])[], classes?: readonly string[]): Evaluation {
  if (yTrue.length === 0) throw badInput("nothing to evaluate: no rows");
  if (yPred.length !== yTrue.length) throw badInput(`${yTrue.length} truths but ${yPred.length} predictions`);
  if (task === "regression") {
    if (!isVector(yPred)) throw badInput("regression predictions must be one number per row");
    return evaluateRegression(yTrue.map((v) => (typeof v === "number" ? v : Number(v))), yPred);
  }
  const labels = yTrue.map(String);
  const classList = classes ? [...classes] : sortLabels(labels);
  const index = new Map(classList.map((c, i) => [c, i]));
  const unknown = [...new Set(labels.filter((l) => !index.has(l)))];
  if (unknown.length > 0) throw badInput(`labels not among the model's classes: ${unknown.slice(0, 10).join(", ")} (classes: ${classList.join(", ")})`);
  return evaluateClassification(task, labels.map((l) => index.get(l) as number), toProbabilityRows(task, yPred, classList.length), classList);
}

function isVector(values: readonly number[] | readonly (readonly number[])[]): values is readonly number[] {
  return values.every((v) => typeof v === "number");
}

function toProbabilityRows(task: Task, yPred: readonly number[] | readonly (readonly number[])[], k: number): number[][] {
  if (task === "binary" && k !== 2) throw badInput(`a binary evaluation needs exactly two classes, got ${k}`);
  const rows = isVector(yPred) ? (task === "binary" ? yPred.map((p) => [1 - p, p]) : null) : yPred.map((r) => [...r]);
  if (!rows) throw badInput("multiclass predictions must be one row of class probabilities per example");
  rows.forEach((row, i) => {
    if (row.length !== k) throw badInput(`prediction row ${i} has ${row.length} probabilities for ${k} classes`);
    if (row.some((p) => !(p >= 0 && p <= 1))) throw badInput(`prediction row ${i} has a value outside [0, 1]: ${row.join(", ")}`);
  });
  return rows;
}

/** Classification metrics from class indices and probability rows (used directly by training). */
export function evaluateClassification(task: "binary" | "multiclass", truth: readonly number[], proba: readonly (readonly number[])[], classes: readonly string[]): ClassificationEvaluation {
  const k = classes.length;
  const n = truth.length;
  // Binary predictions use the 0.5 threshold on the positive class; multiclass the most probable (first on ties).
  const predicted = proba.map((row) => (task === "binary" ? (row[1] >= 0.5 ? 1 : 0) : argmax(row)));
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let correct = 0;
  let logLoss = 0;
  for (let i = 0; i < n; i++) {
    confusion[truth[i]][predicted[i]]++;
    if (truth[i] === predicted[i]) correct++;
    const p = Math.min(Math.max(proba[i][truth[i]], LOG_LOSS_EPSILON), 1 - LOG_LOSS_EPSILON);
    logLoss -= Math.log(p);
  }
  const perClass: ClassReport[] = classes.map((name, c) => {
    const tp = confusion[c][c];
    const support = confusion[c].reduce((a, b) => a + b, 0);
    const predictedCount = confusion.reduce((sum, row) => sum + row[c], 0);
    // Zero divided by zero counts as 0, as scikit-learn's default does.
    const precision = predictedCount > 0 ? tp / predictedCount : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { class: name, precision, recall, f1, support };
  });
  // Macro averages over classes that occur in the truth or the predictions (scikit-learn's
  // default), so evaluating on data without one class does not score it as a zero.
  const seen = perClass.filter((_, c) => perClass[c].support > 0 || confusion.some((row) => row[c] > 0));
  const macro = (pick: (r: ClassReport) => number) => seen.reduce((s, r) => s + pick(r), 0) / Math.max(seen.length, 1);

  const scored = task === "binary" ? [1] : classes.map((_, c) => c);
  const curves: ClassCurves[] = scored.map((c) => {
    const ranking = binaryRanking(
      truth.map((t) => t === c),
      proba.map((row) => row[c]),
    );
    return { class: classes[c], rocAuc: ranking.auc, averagePrecision: ranking.averagePrecision, roc: ranking.roc, pr: ranking.pr };
  });
  const aucs = curves.map((c) => c.rocAuc).filter((a): a is number => a !== null);
  const rocAuc = aucs.length > 0 ? aucs.reduce((a, b) => a + b, 0) / aucs.length : null;

  const evaluation = {
    task,
    rows: n,
    classes: [...classes],
    accuracy: correct / n,
    precisionMacro: macro((r) => r.precision),
    recallMacro: macro((r) => r.recall),
    f1Macro: macro((r) => r.f1),
    rocAuc,
    logLoss: logLoss / n,
    perClass,
    confusionMatrix: confusion,
    curves,
  };
  const metrics: Record<string, number> = {
    accuracy: evaluation.accuracy,
    precision_macro: evaluation.precisionMacro,
    recall_macro: evaluation.recallMacro,
    f1_macro: evaluation.f1Macro,
    log_loss: evaluation.logLoss,
  };
  if (rocAuc !== null) metrics.roc_auc = rocAuc;
  if (task === "binary") {
    // The positive class's own figures are what "precision" and "recall" mean for a binary model.
    metrics.precision = perClass[1].precision;
    metrics.recall = perClass[1].recall;
    metrics.f1 = perClass[1].f1;
  }
  return { ...evaluation, metrics };
}

export function evaluateRegression(yTrue: readonly number[], yPred: readonly number[]): RegressionEvaluation {
  const n = yTrue.length;
  if ([...yTrue, ...yPred].some((v) => !Number.isFinite(v))) throw badInput("regression truths and predictions must be finite numbers");
  const residuals = yTrue.map((y, i) => y - yPred[i]);
  const meanTruth = yTrue.reduce((a, b) => a + b, 0) / n;
  const ssRes = residuals.reduce((s, r) => s + r * r, 0);
  const ssTot = yTrue.reduce((s, y) => s + (y - meanTruth) ** 2, 0);
  const rmse = Math.sqrt(ssRes / n);
  const mae = residuals.reduce((s, r) => s + Math.abs(r), 0) / n;
  const r2 = ssTot > 0 ? 1 - ssRes / ssTot : null;
  const metrics: Record<string, number> = { rmse, mae };
  if (r2 !== null) metrics.r2 = r2;
  return {
    task: "regression",
    rows: n,
    rmse,
    mae,
    r2,
    meanResidual: residuals.reduce((a, b) => a + b, 0) / n,
    residualHistogram: histogram(residuals, RESIDUAL_BINS),
    metrics,
  };
}

/** Equal-width bins over [min, max], the last bin closed; a constant input gets unit-wide bins centred on it. */
export function histogram(values: readonly number[], bins: number): { edges: number[]; counts: number[] } {
  // A loop, not Math.min(...values): spreading 10⁵+ arguments overflows the call stack.
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (max === min) {
    min -= 0.5;
    max += 0.5;
  }
  const width = (max - min) / bins;
  const edges = Array.from({ length: bins + 1 }, (_, i) => (i === bins ? max : min + i * width));
  const counts = new Array<number>(bins).fill(0);
  for (const v of values) counts[Math.min(Math.floor((v - min) / width), bins - 1)]++;
  return { edges, counts };
}

function argmax(row: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}
