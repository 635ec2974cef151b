import { chi2Sf } from "./special";

// Distances between two binned distributions, each given as counts over the same bins (or
// categories). All take raw counts and normalise them; a side with no observations gives NaN,
// which callers report as "not enough data" rather than as a number.

/** Proportions from counts (NaN everywhere when there is nothing to count). */
export function proportions(counts: ArrayLike<number>): Float64Array {
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i];
  const p = new Float64Array(counts.length);
  for (let i = 0; i < counts.length; i++) p[i] = total > 0 ? counts[i] / total : Number.NaN;
  return p;
}

function check(ref: ArrayLike<number>, cur: ArrayLike<number>): void {
  if (ref.length !== cur.length) throw new Error(`bins differ: ${ref.length} reference vs ${cur.length} current`);
}

/** Value empty bins take in PSI, as a proportion (the common convention, also Evidently's). */
export const PSI_EMPTY_BIN = 1e-4;

/**
 * Population stability index Σ (q − p)·ln(q / p), p the reference proportions, q the current.
 * Empty bins count as PSI_EMPTY_BIN so a bin seen on one side only gives a large finite term.
 * Rule of thumb: < 0.1 stable, 0.1–0.25 some shift, > 0.25 major shift.
 */
export function psi(ref: ArrayLike<number>, cur: ArrayLike<number>, emptyBin = PSI_EMPTY_BIN): number {
  check(ref, cur);
  const p = proportions(ref);
  const q = proportions(cur);
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i] === 0 ? emptyBin : p[i];
    const b = q[i] === 0 ? emptyBin : q[i];
    s += (b - a) * Math.log(b / a);
  }
  return s;
}

/**
 * Jensen–Shannon distance: the square root of the JS divergence, in bits by default, so it lies
 * in [0, 1] (scipy.spatial.distance.jensenshannon with base=2).
 */
export function jensenShannon(ref: ArrayLike<number>, cur: ArrayLike<number>, base = 2): number {
  check(ref, cur);
  const p = proportions(ref);
  const q = proportions(cur);
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const m = (p[i] + q[i]) / 2;
    if (p[i] > 0) js += p[i] * Math.log(p[i] / m);
    if (q[i] > 0) js += q[i] * Math.log(q[i] / m);
  }
  return Math.sqrt(Math.max(0, js / 2) / Math.log(base));
}

/** Total variation distance ½ Σ |p − q|, in [0, 1]. */
export function totalVariation(ref: ArrayLike<number>, cur: ArrayLike<number>): number {
  check(ref, cur);
  const p = proportions(ref);
  const q = proportions(cur);
  let s = 0;
  for (let i = 0; i < p.length; i++) s += Math.abs(p[i] - q[i]);
  return s / 2;
}

/** Hellinger distance √(1 − Σ √(p·q)) = √(½ Σ (√p − √q)²), in [0, 1]. */
export function hellinger(ref: ArrayLike<number>, cur: ArrayLike<number>): number {
  check(ref, cur);
  const p = proportions(ref);
  const q = proportions(cur);
  let s = 0;
  for (let i = 0; i < p.length; i++) s += (Math.sqrt(p[i]) - Math.sqrt(q[i])) ** 2;
  return Math.sqrt(Math.max(0, s / 2));
}

export interface TestResult {
  statistic: number;
  pValue: number;
}

/**
 * χ² test of homogeneity on the 2×k table (reference counts, current counts), as
 * scipy.stats.chi2_contingency(..., correction=False). Categories empty on both sides are left
 * out; fewer than two categories left means no test (statistic 0, p-value 1).
 */
export function chiSquare(ref: ArrayLike<number>, cur: ArrayLike<number>): TestResult & { dof: number } {
  check(ref, cur);
  let n1 = 0;
  let n2 = 0;
  let k = 0;
  for (let i = 0; i < ref.length; i++) {
    n1 += ref[i];
    n2 += cur[i];
    if (ref[i] + cur[i] > 0) k++;
  }
  if (n1 === 0 || n2 === 0) return { statistic: Number.NaN, pValue: Number.NaN, dof: 0 };
  if (k < 2) return { statistic: 0, pValue: 1, dof: 0 };
  const n = n1 + n2;
  let stat = 0;
  for (let i = 0; i < ref.length; i++) {
    const col = ref[i] + cur[i];
    if (col === 0) continue;
    const e1 = (n1 * col) / n;
    const e2 = (n2 * col) / n;
    stat += (ref[i] - e1) ** 2 / e1 + (cur[i] - e2) ** 2 / e2;
  }
  const dof = k - 1;
  return { statistic: stat, pValue: chi2Sf(stat, dof), dof };
}

/** Counts of two categorical samples aligned on the union of their categories. */
export function alignCategories(ref: Map<string, number>, cur: Map<string, number>): { categories: string[]; ref: number[]; cur: number[] } {
  const categories = [...new Set([...ref.keys(), ...cur.keys()])].sort();
  return { categories, ref: categories.map((c) => ref.get(c) ?? 0), cur: categories.map((c) => cur.get(c) ?? 0) };
}

/** Category → count of a sample of values (null and undefined are not categories). */
export function countCategories(values: Iterable<unknown>): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) {
    if (v === null || v === undefined) continue;
    const key = String(v);
    m.set(key, (m.get(key) ?? 0) + 1);
  }
  return m;
}
