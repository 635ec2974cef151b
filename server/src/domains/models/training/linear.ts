// Linear regression in closed form. For a baseline the exact least-squares answer beats a
// gradient approximation: it has no learning rate to tune, takes one pass over the data, and
// is the number an MLP must beat. Solved in float64 on the CPU, whatever the backend.

/** Above this many features the p×p solve (O(n·p² + p³)) stops being cheap; training falls back to gradient descent. */
export const LINEAR_CLOSED_FORM_MAX_FEATURES = 500;

/**
 * Ridge least squares with an intercept: minimises mean((y − Xw − b)²) + l2·‖w‖², the same
 * objective gradient training optimises. Centring X and y removes the (unpenalised)
 * intercept from the system; then (XcᵀXc/n + l2·I) w = Xcᵀyc/n is solved by Cholesky. Exactly
 * collinear columns (e.g. every one-hot column of a category) make the system singular; a
 * tiny ridge, grown until the factorisation succeeds, picks the minimum-norm-like answer.
 */
export function solveLeastSquares(x: Float32Array, y: Float32Array, rows: number, width: number, l2: number): { kernel: number[]; bias: number } {
  const xMean = new Float64Array(width);
  let yMean = 0;
  for (let i = 0; i < rows; i++) {
    yMean += y[i];
    for (let j = 0; j < width; j++) xMean[j] += x[i * width + j];
  }
  yMean /= rows;
  for (let j = 0; j < width; j++) xMean[j] /= rows;

  const gram = new Float64Array(width * width);
  const rhs = new Float64Array(width);
  const centred = new Float64Array(width);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < width; j++) centred[j] = x[i * width + j] - xMean[j];
    const yc = y[i] - yMean;
    for (let j = 0; j < width; j++) {
      const cj = centred[j];
      rhs[j] += cj * yc;
      // Upper triangle only; mirrored below.
      for (let k = j; k < width; k++) gram[j * width + k] += cj * centred[k];
    }
  }
  let trace = 0;
  for (let j = 0; j < width; j++) {
    rhs[j] /= rows;
    for (let k = j; k < width; k++) {
      gram[j * width + k] /= rows;
      gram[k * width + j] = gram[j * width + k];
    }
    trace += gram[j * width + j];
  }

  let jitter = 0;
  for (let attempt = 0; attempt < 8; attempt++) {
    const solution = choleskySolve(gram, rhs, width, l2 + jitter);
    if (solution) {
      const kernel = Array.from(solution);
      const bias = yMean - kernel.reduce((s, w, j) => s + w * xMean[j], 0);
      return { kernel, bias };
    }
    jitter = jitter === 0 ? 1e-10 * Math.max(trace / width, 1e-12) : jitter * 100;
  }
  throw new Error("least squares: the feature matrix is too ill-conditioned to solve");
}

/** Solves (A + λI) w = b for symmetric A; null when A + λI is not positive definite. */
function choleskySolve(a: Float64Array, b: Float64Array, n: number, lambda: number): Float64Array | null {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let sum = a[i * n + j] + (i === j ? lambda : 0);
      for (let k = 0; k < j; k++) sum -= l[i * n + k] * l[j * n + k];
      if (i === j) {
        // Relative tolerance: a pivot this small against the diagonal means a singular direction.
        if (!(sum > 1e-12 * Math.max(a[i * n + i] + lambda, 1e-300))) return null;
        l[i * n + i] = Math.sqrt(sum);
      } else {
        l[i * n + j] = sum / l[j * n + j];
      }
    }
  }
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let sum = b[i];
    for (let k = 0; k < i; k++) sum -= l[i * n + k] * z[k];
    z[i] = sum / l[i * n + i];
  }
  const w = new Float64Array(n);
  for (let i = n - 1; i >= 0; i--) {
    let sum = z[i];
    for (let k = i + 1; k < n; k++) sum -= l[k * n + i] * w[k];
    w[i] = sum / l[i * n + i];
  }
  return w;
}
