// The saved-model format and its validation. A saved model is data only: a JSON network
// topology restricted to Dense layers, float32 weights, and the signature and scaling needed
// to use it. Nothing in it is ever executed or used to look up code by name beyond the
// allowlists below, so a model file from an untrusted place can be inspected and loaded safely.
import { z } from "zod";
import { badInput } from "../../../platform/errors";
import { TASKS, type Task } from "./data";
import { ACTIVATIONS } from "./spec";

export const SAVED_MODEL_FORMAT = "ouro.tfjs-layers.v1";

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

export interface FeatureField {
  name: string;
  /** What the network takes. */
  dtype: "float32";
  /** The column's type in the training data (a polars type name such as Float64 or Int64). */
  sourceType: string;
}

export interface ModelSignature {
  features: FeatureField[];
  target: string;
  task: Task;
  /** Class labels in output order (binary: [negative, positive]); null for regression. */
  classes: string[] | null;
}

export interface SavedModel {
  format: typeof SAVED_MODEL_FORMAT;
  kind: "mlp" | "logistic" | "linear";
  signature: ModelSignature;
  /** Applied to inputs before the network: (x − mean) / std per feature. */
  inputScaling: { mean: number[]; std: number[] } | null;
  /** Regression: network output · std + mean is the prediction in target units. */
  targetScaling: { mean: number; std: number } | null;
  /** tfjs-layers model JSON (class_name "Sequential" of "Dense" layers). */
  topology: JsonObject;
  weightSpecs: { name: string; shape: number[]; dtype: "float32" }[];
  /** Base64 of the weights as little-endian float32, concatenated in weightSpecs order. */
  weights: string;
}

/** Classes that may appear anywhere in a topology. tfjs resolves class_name to code, so this is the gate. */
const ALLOWED_CLASSES = new Set(["Sequential", "Dense", "Zeros", "VarianceScaling"]);
const ALLOWED_ACTIVATIONS = new Set<string>([...ACTIVATIONS, "softmax"]);
const MAX_LAYERS = 32;
const MAX_WEIGHT_BYTES = 512 * 1024 * 1024;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

const isJsonObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);
const finite = z.number().refine(Number.isFinite, "must be a finite number");

const savedModelSchema = z.strictObject({
  format: z.literal(SAVED_MODEL_FORMAT),
  kind: z.enum(["mlp", "logistic", "linear"]),
  signature: z.strictObject({
    features: z.array(z.strictObject({ name: z.string().min(1), dtype: z.literal("float32"), sourceType: z.string() })).min(1).max(10_000),
    target: z.string().min(1),
    task: z.enum(TASKS),
    classes: z.array(z.string()).min(2).max(1000).nullable(),
  }),
  inputScaling: z.strictObject({ mean: z.array(finite), std: z.array(finite.refine((s) => s > 0, "must be positive")) }).nullable(),
  targetScaling: z.strictObject({ mean: finite, std: finite.refine((s) => s > 0, "must be positive") }).nullable(),
  topology: z.custom<JsonObject>(isJsonObject, "must be a JSON object"),
  weightSpecs: z.array(z.strictObject({ name: z.string(), shape: z.array(z.int().min(1).max(1 << 20)).max(2), dtype: z.literal("float32") })).max(2 * MAX_LAYERS),
  weights: z.string().max(Math.ceil(MAX_WEIGHT_BYTES / 3) * 4),
});

/**
 * Validates a saved model completely — format, signature, topology against the allowlists,
 * weight shapes against the layers, the weights themselves — and returns it typed with its
 * decoded weights. Anything else is a BAD_USER_INPUT saying what is wrong.
 */
export function parseSavedModel(raw: unknown): { saved: SavedModel; weightData: Float32Array } {
  const parsed = savedModelSchema.safeParse(raw);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw badInput(`not a valid saved model: ${first ? `${first.path.join(".") || "(root)"}: ${first.message}` : "invalid"}`);
  }
  const saved: SavedModel = parsed.data;
  const { signature } = saved;
  const width = signature.features.length;
  const outputs = signature.task === "multiclass" ? (signature.classes?.length ?? 0) : 1;
  if ((signature.task === "regression") !== (signature.classes === null)) throw badInput("not a valid saved model: classes must be given exactly for classification");
  if (signature.task === "binary" && signature.classes?.length !== 2) throw badInput("not a valid saved model: a binary model has two classes");
  if (saved.inputScaling && (saved.inputScaling.mean.length !== width || saved.inputScaling.std.length !== width)) {
    throw badInput("not a valid saved model: inputScaling does not match the features");
  }
  if (saved.targetScaling && signature.task !== "regression") throw badInput("not a valid saved model: targetScaling is for regression only");

  checkClassNames(saved.topology, "topology");
  const expectedSpecs = denseWeightSpecs(saved.topology, width, outputs, signature.task);
  const specsMatch =
    expectedSpecs.length === saved.weightSpecs.length &&
    expectedSpecs.every((e, i) => e.name === saved.weightSpecs[i].name && e.shape.join("x") === saved.weightSpecs[i].shape.join("x"));
  if (!specsMatch) throw badInput("not a valid saved model: weightSpecs do not match the layers of the topology");

  const weightData = decodeWeights(saved.weights, saved.weightSpecs);
  return { saved, weightData };
}

/** Every `class_name`, at any depth, must be allowlisted: initialisers and regularisers are classes too. */
function checkClassNames(value: JsonValue, where: string): void {
  if (Array.isArray(value)) return value.forEach((v, i) => checkClassNames(v, `${where}[${i}]`));
  if (!isJsonObject(value)) return;
  for (const [key, v] of Object.entries(value)) {
    if (key === "class_name" && !(typeof v === "string" && ALLOWED_CLASSES.has(v))) {
      throw badInput(`not a valid saved model: ${where} uses class ${JSON.stringify(v)}; only ${[...ALLOWED_CLASSES].join(", ")} may appear`);
    }
    checkClassNames(v, `${where}.${key}`);
  }
}

/** The weight specs a Sequential stack of Dense layers must have, checking units and activations on the way. */
function denseWeightSpecs(topology: JsonObject, width: number, outputs: number, task: Task): { name: string; shape: number[] }[] {
  const fail = (why: string) => badInput(`not a valid saved model: ${why}`);
  const config = topology.config;
  if (topology.class_name !== "Sequential" || !isJsonObject(config) || !Array.isArray(config.layers)) throw fail("the topology must be a Sequential model");
  const layers = config.layers;
  if (layers.length === 0 || layers.length > MAX_LAYERS) throw fail(`a model has 1 to ${MAX_LAYERS} layers`);
  const specs: { name: string; shape: number[] }[] = [];
  let inputs = width;
  layers.forEach((layer, i) => {
    const lc = isJsonObject(layer) ? layer.config : undefined;
    if (!isJsonObject(layer) || layer.class_name !== "Dense" || !isJsonObject(lc)) throw fail(`layer ${i} is not a Dense layer`);
    const { name, units, activation, use_bias: useBias } = lc;
    if (typeof name !== "string" || !/^[\w-]{1,64}$/.test(name)) throw fail(`layer ${i} has an invalid name`);
    if (typeof units !== "number" || !Number.isInteger(units) || units < 1 || units > 4096) throw fail(`layer ${i} has invalid units`);
    if (typeof activation !== "string" || !ALLOWED_ACTIVATIONS.has(activation)) throw fail(`layer ${i} has activation ${JSON.stringify(activation)}, which is not allowed`);
    if (useBias !== true) throw fail(`layer ${i} must use a bias`);
    if (i === 0) {
      const shape = lc.batch_input_shape;
      if (!Array.isArray(shape) || shape.length !== 2 || shape[0] !== null || shape[1] !== width) {
        throw fail(`the first layer must take ${width} inputs, one per feature of the signature`);
      }
    }
    specs.push({ name: `${name}/kernel`, shape: [inputs, units] }, { name: `${name}/bias`, shape: [units] });
    inputs = units;
  });
  if (inputs !== outputs) throw fail(`the last layer has ${inputs} outputs; the signature needs ${outputs}`);
  const last = layers[layers.length - 1] as JsonObject;
  const expected = task === "binary" ? "sigmoid" : task === "multiclass" ? "softmax" : "linear";
  if ((last.config as JsonObject).activation !== expected) throw fail(`a ${task} model must end in a ${expected} layer`);
  return specs;
}

function decodeWeights(base64: string, specs: SavedModel["weightSpecs"]): Float32Array {
  const count = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1), 0);
  if (count * 4 > MAX_WEIGHT_BYTES) throw badInput("not a valid saved model: too many weights");
  // Buffer.from(…, "base64") skips characters it does not know, so check the alphabet first.
  if (base64.length % 4 !== 0 || !BASE64.test(base64)) throw badInput("not a valid saved model: weights are not base64");
  const bytes = Buffer.from(base64, "base64");
  if (bytes.length !== count * 4) throw badInput(`not a valid saved model: ${bytes.length} bytes of weights, the layers need ${count * 4}`);
  // Copy into an aligned buffer: a Float32Array view needs a 4-byte-aligned offset.
  const weights = new Float32Array(count);
  new Uint8Array(weights.buffer).set(bytes);
  if (!weights.every(Number.isFinite)) throw badInput("not a valid saved model: weights contain NaN or Infinity");
  return weights;
}

export function encodeWeights(weights: Float32Array): string {
  return Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength).toString("base64");
}
