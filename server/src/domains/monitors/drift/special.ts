// Special functions the drift tests need for p-values. Written from the textbook series and
// continued fractions (Numerical Recipes ch. 6, Abramowitz & Stegun 6.5); checked against
// scipy in drift.test.ts.

const LANCZOS = [
  676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012,
  9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7): about 15 significant digits. */
export function logGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
  const z = x - 1;
  let a = 0.99999999999980993;
  const t = z + 7.5;
  for (let i = 0; i < 8; i++) a += LANCZOS[i] / (z + i + 1);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularised upper incomplete gamma Q(a, x) = Γ(a, x) / Γ(a). */
export function gammaQ(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) return Number.NaN;
  if (x === 0) return 1;
  if (!Number.isFinite(x)) return 0;
  const lead = a * Math.log(x) - x - logGamma(a);
  if (x < a + 1) {
    // Series for P(a, x); Q = 1 - P.
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 10_000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return Math.max(0, 1 - sum * Math.exp(lead));
  }
  // Continued fraction for Q(a, x) (modified Lentz).
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.min(1, Math.exp(lead) * h);
}

/** Survival function of the χ² distribution with `dof` degrees of freedom. */
export function chi2Sf(x: number, dof: number): number {
  return gammaQ(dof / 2, x / 2);
}

/**
 * Survival function of the Kolmogorov distribution: P(K > t) = 2 Σ (-1)^(k-1) e^(-2k²t²).
 * For small t the alternating series converges slowly; there the complement
 * P(K ≤ t) = √(2π)/t Σ e^(-(2k-1)²π²/(8t²)) converges fast.
 */
export function kolmogorovSf(t: number): number {
  if (!(t > 0)) return 1;
  if (t < 1) {
    let cdf = 0;
    for (let k = 1; k <= 20; k++) cdf += Math.exp(-((2 * k - 1) ** 2) * Math.PI ** 2 / (8 * t * t));
    return Math.min(1, Math.max(0, 1 - (Math.sqrt(2 * Math.PI) / t) * cdf));
  }
  let sum = 0;
  for (let k = 1; k <= 100; k++) {
    const term = Math.exp(-2 * k * k * t * t);
    sum += k % 2 ? term : -term;
    if (term < 1e-18) break;
  }
  return Math.min(1, Math.max(0, 2 * sum));
}
