// A speed fix for training on the WebAssembly backend.
//
// Backpropagation through a dense layer multiplies by transposed matrices (dW = xᵀ·dy,
// dx = dy·Wᵀ), which tfjs asks of BatchMatMul with transposeA/transposeB set. The wasm build
// of tfjs 4.22 runs those flags on a slow path: measured here, 256×20 by 256×64 takes
// ~870 µs with transposeA but ~165 µs as an explicit Transpose followed by a plain product.
// That made the transposed products ~80% of a training step. This wrapper does the explicit
// transpose and calls the original kernel, so results are the same products, and the
// training step runs several times faster. Forward passes (no flags) are untouched.
import * as tf from "@tensorflow/tfjs";
import type { DataId, TensorInfo } from "@tensorflow/tfjs";

interface DisposingBackend {
  disposeData(dataId: DataId): unknown;
}

let installed = false;

/** Installs the wrapper once, after the wasm backend is registered; a no-op if its kernels are missing. */
export function installWasmMatMulFix(): void {
  if (installed) return;
  const original = tf.getKernel("BatchMatMul", "wasm");
  const transpose = tf.getKernel("Transpose", "wasm");
  if (!original || !transpose) return;
  tf.unregisterKernel("BatchMatMul", "wasm");
  tf.registerKernel({
    ...original,
    kernelFunc: (args) => {
      const attrs = args.attrs ?? {};
      if (!attrs.transposeA && !attrs.transposeB) return original.kernelFunc(args);
      const backend = args.backend as DisposingBackend;
      const temporaries: TensorInfo[] = [];
      const swapLastTwo = (t: TensorInfo): TensorInfo => {
        const rank = t.shape.length;
        const perm = [...Array.from({ length: rank - 2 }, (_, i) => i), rank - 1, rank - 2];
        const out = transpose.kernelFunc({ inputs: { x: t }, backend: args.backend, attrs: { perm } }) as TensorInfo;
        temporaries.push(out);
        return out;
      };
      const a = args.inputs.a as TensorInfo;
      const b = args.inputs.b as TensorInfo;
      try {
        return original.kernelFunc({
          inputs: { a: attrs.transposeA ? swapLastTwo(a) : a, b: attrs.transposeB ? swapLastTwo(b) : b },
          backend: args.backend,
          attrs: { ...attrs, transposeA: false, transposeB: false },
        });
      } finally {
        // Transpose may return the input itself with its reference count raised; disposeData undoes either.
        for (const t of temporaries) backend.disposeData(t.dataId);
      }
    },
  });
  installed = true;
}
