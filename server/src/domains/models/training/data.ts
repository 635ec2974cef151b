// From a polars frame to the plain arrays training and evaluation work on.
//
// The frame normally comes out of a fitted recipe and is numeric already, but it is user data:
// every refusal here names the offending columns and the recipe step that would fix them,
// because "cannot convert to tensor" three layers down tells nobody what to do.
import pl, { type DataFrame, type DataType, type Series } from "nodejs-polars";
import { badInput } from "../../../platform/errors";
import { permutation, seededRandom, shuffleInPlace } from "./random";

export const TASKS = ["binary", "multiclass", "regression"] as const;
export type Task = (typeof TASKS)[number];

/** More distinct labels than this is almost always an identifier or a number chosen as target by mistake. */
export const MAX_CLASSES = 1000;

/** Rows as a row-major float32 matrix plus the target, encoded for the task. */
export interface ArrayData {
  rows: number;
  /** Number of feature columns; `x.length === rows * width`. */
  width: number;
  x: Float32Array;
  /** binary: 0/1 (1 = classes[1]); multiclass: index into classes; regression: the value. */
  y: Float32Array;
}

export interface LabelledData extends ArrayData {
  /** Class labels as strings, in index order; null for regression. */
  classes: string[] | null;
}

const NUMERIC_VARIANTS = new Set(["Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "Float32", "Float64"]);
const isNumeric = (type: DataType) => NUMERIC_VARIANTS.has(type.variant);
// Booleans are 0/1 features without ambiguity; dates and strings are not numbers until a recipe says how.
const isFeatureType = (type: DataType) => isNumeric(type) || type.variant === "Bool";
const isLabelType = (type: DataType) => isFeatureType(type) || ["String", "Utf8", "Categorical"].includes(type.variant);

/** Refuses missing columns with the list of what the frame has. */
export function requireColumns(frame: DataFrame, columns: string[], role: string): void {
  const have = new Set(frame.columns);
  const missing = columns.filter((c) => !have.has(c));
  if (missing.length > 0) {
    throw badInput(`${role} column${missing.length > 1 ? "s" : ""} ${quoteList(missing)} not in the data (columns: ${quoteList(frame.columns, 30)})`, {
      missing,
    });
  }
}

/**
 * The features as a row-major float32 matrix. Refuses text/date columns, nulls and
 * non-finite values, naming every offending column at once so one recipe edit fixes all.
 */
export function featureMatrix(frame: DataFrame, features: string[]): Float32Array {
  if (features.length === 0) throw badInput("at least one feature column is required");
  requireColumns(frame, features, "feature");
  const notNumeric = features.filter((f) => !isFeatureType(frame.getColumn(f).dtype));
  if (notNumeric.length > 0) {
    const types = notNumeric.map((f) => `${f} (${frame.getColumn(f).dtype.variant})`);
    throw badInput(`feature columns must be numeric or boolean; ${types.join(", ")} ${notNumeric.length > 1 ? "are" : "is"} not. Encode them with a recipe (oneHot, ordinalEncode, cast, dateParts) or leave them out of the features`, { columns: notNumeric });
  }
  const withNulls = features.filter((f) => frame.getColumn(f).nullCount() > 0);
  if (withNulls.length > 0) {
    const counts = withNulls.map((f) => `${f} (${frame.getColumn(f).nullCount()} nulls)`);
    throw badInput(`feature columns have missing values: ${counts.join(", ")}. Add a fillNull or dropNulls step to the recipe`, { columns: withNulls });
  }
  const rows = frame.height;
  const width = features.length;
  const x = new Float32Array(rows * width);
  const nonFinite: string[] = [];
  features.forEach((name, j) => {
    const values = float64Values(frame.getColumn(name));
    let finite = true;
    for (let i = 0; i < rows; i++) {
      const v = values[i];
      if (!Number.isFinite(v)) finite = false;
      x[i * width + j] = v;
    }
    if (!finite) nonFinite.push(name);
  });
  if (nonFinite.length > 0) {
    throw badInput(`feature columns have NaN or infinite values: ${quoteList(nonFinite)}. Filter or clip them with a recipe`, { columns: nonFinite });
  }
  return x;
}

/** The target column as strings (classification) — numbers print as JavaScript does: 1, not 1.0. */
export function labelStrings(frame: DataFrame, target: string): string[] {
  requireColumns(frame, [target], "target");
  const series = frame.getColumn(target);
  refuseNullTarget(frame, target);
  if (!isLabelType(series.dtype)) {
    throw badInput(`target ${target} has type ${series.dtype.variant}, which cannot be a class label; cast it to text or a number with a recipe`);
  }
  if (isNumeric(series.dtype)) return Array.from(float64Values(series), (v) => String(v));
  return (series.cast(pl.Utf8).toArray() as (string | boolean)[]).map((v) => String(v));
}

function refuseNullTarget(frame: DataFrame, target: string): void {
  const nulls = frame.getColumn(target).nullCount();
  if (nulls > 0) throw badInput(`target ${target} has ${nulls} missing values; drop those rows with a dropNulls step on ${target}`, { column: target });
}

/**
 * Orders labels so class indices are stable: numerically when every label is a number
 * (so "10" follows "9"), otherwise by code unit (locale-independent, so the same on every worker).
 */
export function sortLabels(labels: Iterable<string>): string[] {
  const unique = [...new Set(labels)];
  const numeric = unique.every((l) => l.trim() !== "" && Number.isFinite(Number(l)));
  return numeric ? unique.sort((a, b) => Number(a) - Number(b)) : unique.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The class list a training frame defines. For binary, `positiveClass` (default: the second in order) gets index 1. */
export function classesOf(labels: string[], task: "binary" | "multiclass", target: string, positiveClass?: string): string[] {
  const classes = sortLabels(labels);
  if (classes.length < 2) throw badInput(`target ${target} has only one value (${quoteList(classes)}); a classifier needs at least two classes`);
  if (task === "binary" && classes.length !== 2) {
    throw badInput(`a binary target needs exactly two values; ${target} has ${classes.length} (${quoteList(classes, 10)}). Use task multiclass`, { classes: classes.slice(0, 50) });
  }
  if (classes.length > MAX_CLASSES) throw badInput(`target ${target} has ${classes.length} distinct values, more than ${MAX_CLASSES} classes; is it an identifier?`);
  if (positiveClass !== undefined) {
    if (task !== "binary") throw badInput("positiveClass applies to binary tasks only");
    if (!classes.includes(positiveClass)) throw badInput(`positiveClass ${positiveClass} is not a value of ${target} (${quoteList(classes)})`);
    return [classes.find((c) => c !== positiveClass) as string, positiveClass];
  }
  return classes;
}

/** Encodes labels as class indices; a label the classes do not know is refused (e.g. a new class in validation data). */
export function encodeLabels(labels: string[], classes: string[], target: string): Float32Array {
  const index = new Map(classes.map((c, i) => [c, i]));
  const y = new Float32Array(labels.length);
  const unknown = new Set<string>();
  labels.forEach((label, i) => {
    const k = index.get(label);
    if (k === undefined) unknown.add(label);
    else y[i] = k;
  });
  if (unknown.size > 0) {
    throw badInput(`target ${target} has values the model was not trained on: ${quoteList([...unknown], 10)} (known classes: ${quoteList(classes, 20)})`, { unknown: [...unknown].slice(0, 50) });
  }
  return y;
}

/** A numeric target for regression (float64, for exact evaluation); text is refused with the alternatives spelled out. */
export function regressionTarget(frame: DataFrame, target: string): Float64Array {
  requireColumns(frame, [target], "target");
  const series = frame.getColumn(target);
  if (!isFeatureType(series.dtype)) {
    throw badInput(`a regression target must be numeric; ${target} is ${series.dtype.variant}. Use task binary or multiclass, or cast it with a recipe`, { column: target });
  }
  refuseNullTarget(frame, target);
  const values = float64Values(series);
  if (values.some((v) => !Number.isFinite(v))) throw badInput(`target ${target} has NaN or infinite values; filter them with a recipe`);
  return values;
}

export interface FrameSpec {
  task: Task;
  features: string[];
  target: string;
  /** Given for validation/evaluation frames: the training classes. Omitted: derived from this frame. */
  classes?: string[] | null;
  positiveClass?: string;
}

/** Features and target of a frame, encoded for the task. */
export function frameToArrays(frame: DataFrame, spec: FrameSpec): LabelledData {
  if (spec.features.includes(spec.target)) throw badInput(`the target ${spec.target} cannot also be a feature`);
  requireColumns(frame, [...spec.features, spec.target], "input");
  if (frame.height === 0) throw badInput("the data has no rows");
  const x = featureMatrix(frame, spec.features);
  const base = { rows: frame.height, width: spec.features.length, x };
  if (spec.task === "regression") return { ...base, y: Float32Array.from(regressionTarget(frame, spec.target)), classes: null };
  const labels = labelStrings(frame, spec.target);
  const classes = spec.classes ?? classesOf(labels, spec.task, spec.target, spec.positiveClass);
  return { ...base, y: encodeLabels(labels, classes, spec.target), classes };
}

/** The rows at `indices`, in that order. */
export function takeRows<T extends ArrayData>(data: T, indices: ArrayLike<number>): T {
  const { width } = data;
  const x = new Float32Array(indices.length * width);
  const y = new Float32Array(indices.length);
  for (let r = 0; r < indices.length; r++) {
    const i = indices[r];
    x.set(data.x.subarray(i * width, (i + 1) * width), r * width);
    y[r] = data.y[i];
  }
  return { ...data, rows: indices.length, x, y };
}

/**
 * A seeded train/validation split. For classification it is stratified — each class keeps its
 * share on both sides — so a rare class cannot vanish from validation by bad luck.
 */
export function splitIndices(data: LabelledData, fraction: number, seed: number): { train: number[]; validation: number[] } {
  if (!(fraction > 0 && fraction < 1)) throw badInput(`validation fraction must be between 0 and 1 (exclusive), got ${fraction}`);
  const random = seededRandom(seed);
  const groups: number[][] = [];
  if (data.classes) {
    for (let k = 0; k < data.classes.length; k++) groups.push([]);
    data.y.forEach((k, i) => groups[k].push(i));
  } else {
    groups.push(Array.from(permutation(data.rows, random)));
  }
  const train: number[] = [];
  const validation: number[] = [];
  for (const group of groups) {
    shuffleInPlace(group, random);
    // Round, but leave at least one row for training in every group that has one.
    const take = Math.min(Math.round(group.length * fraction), group.length - 1);
    validation.push(...group.slice(0, Math.max(0, take)));
    train.push(...group.slice(Math.max(0, take)));
  }
  if (validation.length === 0) throw badInput(`${data.rows} rows are too few for a validation fraction of ${fraction}`);
  // Interleave the classes again; the batch order is shuffled per epoch anyway.
  shuffleInPlace(train, random);
  shuffleInPlace(validation, random);
  return { train, validation };
}

export type ClassWeightSpec = "balanced" | Record<string, number>;

/**
 * Per-class loss weights by class index. "balanced" is n / (k · n_class), as in scikit-learn,
 * so every class contributes equally to the loss however rare it is. Given weights are keyed
 * by label; classes not named weigh 1.
 */
export function classWeights(data: LabelledData, spec: ClassWeightSpec): Record<number, number> {
  const classes = data.classes;
  if (!classes) throw badInput("class weights apply to classification tasks only");
  const weights: Record<number, number> = {};
  if (spec === "balanced") {
    const counts = new Array<number>(classes.length).fill(0);
    for (const k of data.y) counts[k]++;
    classes.forEach((_, k) => (weights[k] = counts[k] > 0 ? data.rows / (classes.length * counts[k]) : 1));
    return weights;
  }
  const unknown = Object.keys(spec).filter((label) => !classes.includes(label));
  if (unknown.length > 0) throw badInput(`class weights name unknown classes ${quoteList(unknown)} (classes: ${quoteList(classes, 20)})`);
  classes.forEach((label, k) => {
    const w = spec[label] ?? 1;
    if (!(Number.isFinite(w) && w >= 0)) throw badInput(`class weight for ${label} must be a non-negative number, got ${w}`);
    weights[k] = w;
  });
  return weights;
}

/** Column means and standard deviations (population); a constant column gets std 1 so it maps to 0, not NaN. */
export function columnStats(data: ArrayData): { mean: number[]; std: number[] } {
  const { rows, width, x } = data;
  const mean = new Array<number>(width).fill(0);
  const sq = new Array<number>(width).fill(0);
  for (let i = 0; i < rows; i++) for (let j = 0; j < width; j++) mean[j] += x[i * width + j];
  for (let j = 0; j < width; j++) mean[j] /= Math.max(rows, 1);
  for (let i = 0; i < rows; i++) for (let j = 0; j < width; j++) sq[j] += (x[i * width + j] - mean[j]) ** 2;
  const std = sq.map((s) => Math.sqrt(s / Math.max(rows, 1)));
  return { mean, std: std.map((s) => (s > 1e-12 ? s : 1)) };
}

/** (x - mean) / std, column-wise, into a new matrix. */
export function standardize(x: Float32Array, width: number, stats: { mean: number[]; std: number[] }): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const j = i % width;
    out[i] = (x[i] - stats.mean[j]) / stats.std[j];
  }
  return out;
}

/** A null-free numeric or boolean series as float64 (polars types toTypedArray as any). */
function float64Values(series: Series): Float64Array {
  const values: unknown = series.cast(pl.Float64).toTypedArray();
  if (!(values instanceof Float64Array)) throw new Error(`column ${series.name} did not convert to float64`);
  return values;
}

function quoteList(items: string[], max = 20): string {
  const shown = items.slice(0, max).map((s) => JSON.stringify(s));
  return items.length > max ? `${shown.join(", ")}, … (${items.length} in all)` : shown.join(", ");
}
