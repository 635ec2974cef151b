import type { TestResult } from "./distribution";
import { kolmogorovSf } from "./special";
import { sortedFinite } from "./sort";

/**
 * Two-sample Kolmogorov–Smirnov test on sorted samples (see sortedFinite). The statistic is
 * exact: the largest gap between the two empirical CDFs, ties stepped over together. The
 * p-value is asymptotic (Kolmogorov distribution with Stephens' small-sample correction,
 * √nₑ + 0.12 + 0.11/√nₑ with nₑ = n₁n₂/(n₁+n₂)); it tracks scipy's ks_2samp(method="asymp")
 * closely and is what matters at monitoring sizes, where exact p-values are out of reach anyway.
 */
export function ksFromSorted(a: Float64Array, b: Float64Array): TestResult {
  const n1 = a.length;
  const n2 = b.length;
  if (n1 === 0 || n2 === 0) return { statistic: Number.NaN, pValue: Number.NaN };
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < n1 && j < n2) {
    const x = a[i] <= b[j] ? a[i] : b[j];
    while (i < n1 && a[i] <= x) i++;
    while (j < n2 && b[j] <= x) j++;
    const gap = Math.abs(i / n1 - j / n2);
    if (gap > d) d = gap;
  }
  return { statistic: d, pValue: ksPValue(d, n1, n2) };
}

/** ksFromSorted on unsorted samples (non-finite values left out). */
export function ks2samp(a: ArrayLike<number>, b: ArrayLike<number>): TestResult {
  return ksFromSorted(sortedFinite(a), sortedFinite(b));
}

export function ksPValue(d: number, n1: number, n2: number): number {
  if (!Number.isFinite(d)) return Number.NaN;
  const en = Math.sqrt((n1 * n2) / (n1 + n2));
  return kolmogorovSf((en + 0.12 + 0.11 / en) * d);
}

/**
 * KS from two histograms over the same bins: the largest CDF gap at the bin edges. It is a
 * lower bound of the raw-data statistic (gaps inside a bin are invisible), which is what a
 * reference kept as a profile allows.
 */
export function ksFromHistograms(ref: ArrayLike<number>, cur: ArrayLike<number>): TestResult {
  let n1 = 0;
  let n2 = 0;
  for (let i = 0; i < ref.length; i++) {
    n1 += ref[i];
    n2 += cur[i];
  }
  if (n1 === 0 || n2 === 0) return { statistic: Number.NaN, pValue: Number.NaN };
  let c1 = 0;
  let c2 = 0;
  let d = 0;
  for (let i = 0; i < ref.length; i++) {
    c1 += ref[i];
    c2 += cur[i];
    d = Math.max(d, Math.abs(c1 / n1 - c2 / n2));
  }
  return { statistic: d, pValue: ksPValue(d, n1, n2) };
}

/**
 * Equal-width bin edges over [min, max] (as dataset profiles make them: the last bin holds max).
 * A constant column gets bins of width 1 starting at its value.
 */
export function equalWidthEdges(min: number, max: number, bins: number): number[] {
  const width = max > min ? (max - min) / bins : 1;
  return Array.from({ length: bins + 1 }, (_, i) => min + i * width);
}

/**
 * Counts per bin with the rule dataset profiles use (profile.work.ts): over equal-width edges,
 * bin = floor((x − edges[0]) / width), clipped to the first and last bin, width =
 * (edges[last] − edges[0]) / bins. So the current window is binned exactly as the reference
 * was, values on an edge included (integer data puts many there). Values outside the
 * reference range land in the end bins (data quality reports how many); non-finite values are
 * skipped.
 */
export function binCounts(values: ArrayLike<number>, edges: ArrayLike<number>): Float64Array {
  const bins = edges.length - 1;
  const counts = new Float64Array(Math.max(bins, 0));
  if (bins <= 0) return counts;
  const { first, width } = binGeometry(edges);
  const top = bins - 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v !== 0) continue; // NaN, ±Infinity
    const q = (v - first) / width;
    counts[q <= 0 ? 0 : q >= top ? top : q | 0]++;
  }
  return counts;
}

/**
 * binCounts over `bins` equal-width bins of [min, max], computed exactly as the profile computed
 * them: width = (max − min) / bins, and (x − min) multiplied by 1/width — polars divides a
 * column by a scalar that way, and a plain division puts some values that sit exactly on an
 * edge (5.6 on the edge −7.1 + 10 × 1.27) one bin higher than the reference did. Checked on every
 * numeric column of six vega datasets: the reference's own values give its profile's counts.
 */
export function binCountsInRange(values: ArrayLike<number>, min: number, max: number, bins: number): Float64Array {
  const counts = new Float64Array(bins);
  const width = max > min ? (max - min) / bins : 1;
  const inverse = 1 / width;
  const top = bins - 1;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v - v !== 0) continue;
    const q = (v - min) * inverse;
    counts[q <= 0 ? 0 : q >= top ? top : Math.floor(q)]++;
  }
  return counts;
}

export function binGeometry(edges: ArrayLike<number>): { first: number; width: number } {
  const bins = edges.length - 1;
  const first = edges[0];
  const width = edges[bins] > first ? (edges[bins] - first) / bins : 1;
  return { first, width };
}

/** binCounts for sorted values in O(bins · log n), by binary search of each bin's end. */
export function binCountsSorted(sorted: Float64Array, edges: ArrayLike<number>): Float64Array {
  const bins = edges.length - 1;
  const counts = new Float64Array(Math.max(bins, 0));
  if (bins <= 0) return counts;
  const { first, width } = binGeometry(edges);
  let start = 0;
  for (let b = 0; b < bins - 1; b++) {
    // First index whose bin is past b.
    let lo = start;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((sorted[mid] - first) / width >= b + 1) hi = mid;
      else lo = mid + 1;
    }
    counts[b] = lo - start;
    start = lo;
  }
  counts[bins - 1] = sorted.length - start;
  return counts;
}
