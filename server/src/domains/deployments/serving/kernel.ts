// How a servable turns a row-major float32 matrix into raw model outputs.
//
// Every saved model is a plain stack of Dense layers (saved-model.ts refuses anything else),
// and the network served online is small: the 20-64-64-1 MLP is ~5,500
// multiply-adds per row. Through TensorFlow.js a single-row call costs far more than that
// arithmetic — a tensor is created, each layer dispatches kernels (on the WASM backend, a
// copy in and out of its heap per op), the output is read back with dataSync — so for one
// row the framework, not the maths, is the price. The "dense-js" kernel reads the weights
// once from the loaded tfjs network and evaluates the same function in plain TypeScript on
// typed arrays (batches of rows too). Anything it does not know — another layer class, an
// activation outside its list — keeps the "tfjs" kernel, which is predictMatrix itself.
// test/serving-kernel.test.ts proves both give the same outputs on real data.
import { badInput } from "../../../platform/errors";
import { predictMatrix, type LoadedModel } from "../../models/training/serialize";

export const KERNELS = ["dense-js", "tfjs"] as const;
export type KernelName = (typeof KERNELS)[number];
/** What the operator asks for: the compiled kernel where it applies (auto), or always tfjs. */
export type KernelPreference = "auto" | "tfjs";

export interface ScoringKernel {
  name: KernelName;
  /** Why the compiled kernel is not used (null when it is). */
  fallbackReason: string | null;
  /** Raw outputs, as predictMatrix returns them: probabilities, or values in target units. */
  score(x: Float32Array, rows: number): Float32Array;
}

/** In place on `v[from, to)`: one row of a layer's pre-activations. */
type Activation = (v: Float64Array, from: number, to: number) => void;

// Constants as TensorFlow.js defines them (tfjs-core selu_util and erf_util), so the compiled
// kernel computes the same function, not a close relative.
const SELU_SCALE = 1.0507009873554804934193349852946;
const SELU_SCALEALPHA = 1.7580993408473768599402175208123;
const ERF_P = 0.3275911;
const ERF_A = [0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429] as const;

/** Abramowitz & Stegun 7.1.26, the approximation tfjs' Erf kernel uses (error ≤ 1.5e-7). */
export function erf(x: number): number {
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  const t = 1 / (1 + ERF_P * a);
  const poly = t * (ERF_A[0] + t * (ERF_A[1] + t * (ERF_A[2] + t * (ERF_A[3] + t * ERF_A[4]))));
  return sign * (1 - poly * Math.exp(-a * a));
}

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
const each = (f: (x: number) => number): Activation => (v, from, to) => {
  for (let i = from; i < to; i++) v[i] = f(v[i]);
};

export const ACTIVATION_FUNCTIONS: Record<string, Activation> = {
  linear: () => undefined,
  relu: (v, from, to) => {
    for (let i = from; i < to; i++) if (v[i] < 0) v[i] = 0;
  },
  elu: each((x) => (x > 0 ? x : Math.expm1(x))),
  selu: each((x) => (x > 0 ? SELU_SCALE * x : SELU_SCALEALPHA * Math.expm1(x))),
  tanh: each(Math.tanh),
  sigmoid: each(sigmoid),
  swish: each((x) => x * sigmoid(x)),
  gelu: each((x) => 0.5 * x * (1 + erf(x / Math.SQRT2))),
  softmax: (v, from, to) => {
    let max = -Infinity;
    for (let i = from; i < to; i++) if (v[i] > max) max = v[i];
    let sum = 0;
    for (let i = from; i < to; i++) sum += v[i] = Math.exp(v[i] - max);
    for (let i = from; i < to; i++) v[i] /= sum;
  },
};

interface DenseLayer {
  inputs: number;
  units: number;
  /** [inputs, units] row-major, as tfjs stores a Dense kernel. */
  kernel: Float32Array;
  bias: Float32Array | null;
  activation: Activation;
}

/**
 * The kernel for a loaded model: "dense-js" when every layer is a Dense layer with a known
 * activation, else "tfjs" with the reason. `prefer: "tfjs"` keeps tfjs regardless (an
 * operator's escape hatch, and the baseline the benchmark compares against).
 */
export function chooseKernel(loaded: LoadedModel, prefer: KernelPreference = "auto"): ScoringKernel {
  const tfjs = (fallbackReason: string): ScoringKernel => ({ name: "tfjs", fallbackReason, score: (x, rows) => predictMatrix(loaded, x, rows) });
  if (prefer === "tfjs") return tfjs("tfjs kernel chosen by configuration (OURO_SERVING_KERNEL=tfjs)");
  const compiled = compileDense(loaded);
  return typeof compiled === "string" ? tfjs(compiled) : { name: "dense-js", fallbackReason: null, score: compiled };
}

/** The network as Dense layers, or why it cannot be (a sentence for the status and the log). */
function readDenseLayers(loaded: LoadedModel): DenseLayer[] | string {
  const layers: DenseLayer[] = [];
  let width = loaded.saved.signature.features.length;
  for (const layer of loaded.network.layers) {
    const cls = layer.getClassName();
    if (cls !== "Dense") return `layer ${layer.name} is a ${cls} layer; the compiled kernel takes Dense layers only`;
    const config = layer.getConfig() as { units?: unknown; activation?: unknown; useBias?: unknown };
    const activation = typeof config.activation === "string" ? ACTIVATION_FUNCTIONS[config.activation] : undefined;
    if (!activation) return `layer ${layer.name} has activation ${JSON.stringify(config.activation)}, which the compiled kernel does not implement`;
    const weights = layer.getWeights();
    const units = Number(config.units);
    const [kernel, bias] = weights;
    if (!kernel || kernel.shape.length !== 2 || kernel.shape[0] !== width || kernel.shape[1] !== units) return `layer ${layer.name} has an unexpected kernel shape`;
    if (config.useBias && (!bias || bias.shape.length !== 1 || bias.shape[0] !== units)) return `layer ${layer.name} has an unexpected bias shape`;
    // dataSync copies out of the backend once, at load: the served weights are exactly tfjs'.
    layers.push({ inputs: width, units, kernel: Float32Array.from(kernel.dataSync() as Float32Array), bias: config.useBias ? Float32Array.from(bias.dataSync() as Float32Array) : null, activation });
    width = units;
  }
  if (layers.length === 0) return "the network has no layers";
  return layers;
}

/** A scoring function over the Dense stack, with the saved model's input and target scaling. */
export function compileDense(loaded: LoadedModel): ((x: Float32Array, rows: number) => Float32Array) | string {
  const layers = readDenseLayers(loaded);
  if (typeof layers === "string") return layers;
  const { saved } = loaded;
  const width = saved.signature.features.length;
  const mean = saved.inputScaling ? Float64Array.from(saved.inputScaling.mean) : null;
  const std = saved.inputScaling ? Float64Array.from(saved.inputScaling.std) : null;
  const target = saved.targetScaling;
  const outWidth = layers[layers.length - 1].units;
  const widest = Math.max(width, ...layers.map((l) => l.units));
  // Two buffers reused across calls, layer outputs alternating between them: scoring is
  // synchronous, so no other call can see them mid-use. They grow with the largest batch.
  let a = new Float64Array(widest * 64);
  let b = new Float64Array(widest * 64);

  return (x, rows) => {
    if (x.length !== rows * width) throw badInput(`expected ${width} values per row (features: ${saved.signature.features.map((f) => f.name).join(", ")})`);
    if (rows === 0) return new Float32Array(0);
    if (a.length < rows * widest) {
      a = new Float64Array(rows * widest);
      b = new Float64Array(rows * widest);
    }
    // Standardised inputs rounded to float32, as predictMatrix hands them to tfjs.
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < width; j++) {
        const v = x[r * width + j];
        a[r * width + j] = mean && std ? Math.fround((v - mean[j]) / std[j]) : v;
      }
    }
    let input = a;
    let output = b;
    for (const layer of layers) {
      const { inputs, units, kernel, bias, activation } = layer;
      for (let r = 0; r < rows; r++) {
        const o = r * units;
        for (let j = 0; j < units; j++) output[o + j] = bias ? bias[j] : 0;
        const ir = r * inputs;
        for (let i = 0; i < inputs; i++) {
          const xi = input[ir + i];
          if (xi === 0) continue; // ReLU zeros: common, and free to skip
          const k = i * units;
          for (let j = 0; j < units; j++) output[o + j] += xi * kernel[k + j];
        }
        activation(output, o, o + units);
      }
      const t = input;
      input = output;
      output = t;
    }
    const out = new Float32Array(rows * outWidth);
    for (let i = 0; i < out.length; i++) out[i] = target ? Math.fround(input[i]) * target.std + target.mean : input[i];
    return out;
  };
}
