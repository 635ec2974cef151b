// Chooses the fastest TensorFlow.js backend that actually works in this process.
//
// Order: the native binding (@tensorflow/tfjs-node, an optionalDependency whose install
// downloads libtensorflow and so is often missing), then WebAssembly (shipped in
// node_modules, no download), then the plain-JavaScript `cpu` backend, which always works.
// Each candidate is proven with a real op before it is accepted: registering a backend
// succeeds long before its binary is found, and a backend that fails on first use would
// otherwise fail the user's training instead of falling back.
import { createRequire } from "node:module";
import path from "node:path";
import * as tf from "@tensorflow/tfjs";
import { installWasmMatMulFix } from "./wasm-matmul";

export const BACKENDS = ["tensorflow", "wasm", "cpu"] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface BackendChoice {
  backend: BackendName;
  /** Why each faster backend was skipped, for the run's log ("not installed", an error message). */
  skipped: { backend: BackendName; reason: string }[];
}

let chosen: Promise<BackendChoice> | undefined;
let chosenFor: string | undefined;

/**
 * Activates and returns the first working backend. `prefer` reorders the candidates (e.g.
 * `["cpu"]` to force the reference backend in determinism tests); the ones not named still
 * follow as fallbacks. The choice is made once per process and per preference.
 */
export async function selectBackend(prefer: readonly BackendName[] = BACKENDS): Promise<BackendName> {
  return (await selectBackendWithReasons(prefer)).backend;
}

export function selectBackendWithReasons(prefer: readonly BackendName[] = BACKENDS): Promise<BackendChoice> {
  const order = [...new Set([...prefer, ...BACKENDS])];
  const key = order.join(",");
  if (!chosen || chosenFor !== key) {
    chosenFor = key;
    chosen = activateFirst(order);
  }
  return chosen;
}

async function activateFirst(order: BackendName[]): Promise<BackendChoice> {
  // The cpu backend's first use prints a banner recommending tfjs-node, which we have just
  // tried; in a worker it is noise in every job's log. Production mode only silences warnings.
  tf.enableProdMode();
  const skipped: BackendChoice["skipped"] = [];
  for (const backend of order) {
    try {
      await activate(backend);
      await smokeTest();
      return { backend, skipped };
    } catch (err) {
      skipped.push({ backend, reason: err instanceof Error ? err.message.split("\n")[0] : String(err) });
    }
  }
  throw new Error(`no TensorFlow.js backend works here: ${skipped.map((s) => `${s.backend}: ${s.reason}`).join("; ")}`);
}

async function activate(backend: BackendName): Promise<void> {
  if (backend === "tensorflow") {
    // A variable specifier keeps TypeScript from requiring the optional package's types, and
    // keeps bundlers from trying to resolve it. Loading it registers the "tensorflow" backend.
    const nativePackage = "@tensorflow/tfjs-node";
    await import(nativePackage);
  } else if (backend === "wasm") {
    const wasm = await import("@tensorflow/tfjs-backend-wasm");
    // In Node, Emscripten's loader reads the binary with fs.readFileSync(prefix + fileName),
    // so the prefix must be a filesystem path (a file:// URL is not a path to fs), ending in a
    // separator. The loader picks the SIMD build itself; the threaded build is never chosen in
    // Node (no SharedArrayBuffer workers), so nothing else needs configuring.
    wasm.setWasmPaths(wasmDirectory());
  }
  const ok = await tf.setBackend(backend);
  if (!ok) throw new Error(`backend ${backend} did not initialise`);
  await tf.ready();
  if (backend === "wasm") installWasmMatMulFix();
}

function wasmDirectory(): string {
  const packageJson = createRequire(__filename).resolve("@tensorflow/tfjs-backend-wasm/package.json");
  return path.join(path.dirname(packageJson), "dist") + path.sep;
}

/** A matrix product whose answer we know: catches a backend that loads but cannot compute. */
async function smokeTest(): Promise<void> {
  const a = tf.tensor2d([1, 2, 3, 4], [2, 2]);
  const product = a.matMul(a);
  const values = await product.data();
  tf.dispose([a, product]);
  const expected = [7, 10, 15, 22];
  if (expected.some((v, i) => Math.abs(values[i] - v) > 1e-4)) throw new Error(`wrong result from ${tf.getBackend()}`);
}
