import type { TestResult } from "./distribution";
import { binCounts, binGeometry, equalWidthEdges, ksFromSorted, ksPValue } from "./numeric";
import { radixSortFloat64 } from "./sort";

const BUCKETS = 1 << 16;

/**
 * Exact two-sample KS statistic without sorting everything. Both samples are counted into
 * 65,536 equal-width buckets over their joint range (a monotone map, so equal values share a
 * bucket). The CDF gap at every bucket boundary is then known exactly; inside bucket k it can
 * only reach max(|A₁ − B₀|, |A₀ − B₁|) (A, B the two CDFs at the bucket's ends). Only buckets
 * whose bound beats the best boundary gap are opened — their values gathered and sorted — which
 * for real data is a handful of buckets. Three linear passes instead of a sort of each side;
 * data that piles into few buckets falls back to sorting.
 */
export function ksTwoSample(a: ArrayLike<number>, b: ArrayLike<number>): TestResult {
  return ksWithBins(a, b, null).ks;
}

/**
 * Counts `x` into the KS buckets and, when `edges` is given, into those bins too (the rule of
 * binCounts), in the same pass: the data is read once for both.
 */
function countInto(x: ArrayLike<number>, lo: number, scale: number, buckets: Float64Array, edges: Float64Array | null, bins: Float64Array | null): void {
  const last = buckets.length - 1;
  if (!edges || !bins) {
    for (let i = 0; i < x.length; i++) {
      const v = x[i];
      if (v - v !== 0) continue; // NaN and ±Infinity
      const k = ((v - lo) * scale) | 0; // v ≥ lo: truncation is floor
      buckets[k > last ? last : k]++;
    }
    return;
  }
  const top = edges.length - 2;
  const { first, width } = binGeometry(edges);
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (v - v !== 0) continue;
    const k = ((v - lo) * scale) | 0;
    buckets[k > last ? last : k]++;
    const q = (v - first) / width; // the profile's rule, as binCounts
    const b = q <= 0 ? 0 : q >= top ? top : q | 0;
    bins[b]++;
  }
}

export interface NumericDrift {
  ks: TestResult;
  /** Equal-width edges over the reference's range, and both sides' counts over them. */
  edges: number[];
  refCounts: Float64Array;
  curCounts: Float64Array;
}

/**
 * KS between raw reference and current values, plus both sides binned into `bins` equal-width
 * bins over the reference's range (for PSI, JS, TVD, Hellinger), reading each sample twice.
 */
export function numericDrift(ref: ArrayLike<number>, cur: ArrayLike<number>, bins = 20): NumericDrift {
  const r = ksWithBins(ref, cur, bins);
  return { ks: r.ks, edges: r.edges ?? [], refCounts: r.refCounts ?? new Float64Array(bins), curCounts: r.curCounts ?? new Float64Array(bins) };
}

function ksWithBins(a: ArrayLike<number>, b: ArrayLike<number>, bins: number | null): { ks: TestResult; edges?: number[]; refCounts?: Float64Array; curCounts?: Float64Array } {
  let lo = Infinity;
  let hi = -Infinity;
  let n1 = 0;
  let n2 = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v - v !== 0) continue; // NaN and ±Infinity
    n1++;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const refLo = lo;
  const refHi = hi;
  for (let i = 0; i < b.length; i++) {
    const v = b[i];
    if (v - v !== 0) continue;
    n2++;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  let binned: { edges: number[]; refCounts: Float64Array; curCounts: Float64Array } | undefined;
  let edgeArray: Float64Array | null = null;
  if (bins !== null) {
    const edges = n1 > 0 ? equalWidthEdges(refLo, refHi, bins) : [];
    binned = { edges, refCounts: new Float64Array(bins), curCounts: new Float64Array(bins) };
    if (edges.length) edgeArray = Float64Array.from(edges);
  }
  const fallback = () => {
    if (binned && edgeArray) {
      binned.refCounts = binCounts(a, edgeArray);
      binned.curCounts = binCounts(b, edgeArray);
    }
    return { ks: ksBySorting(a, b), ...binned };
  };
  if (n1 === 0 || n2 === 0) {
    if (binned && edgeArray) binned.refCounts = binCounts(a, edgeArray);
    return { ks: { statistic: Number.NaN, pValue: Number.NaN }, ...binned };
  }
  const scale = BUCKETS / (hi - lo);
  if (lo === hi || !Number.isFinite(scale)) {
    const r = fallback();
    return lo === hi ? { ...r, ks: { statistic: 0, pValue: 1 } } : r;
  }
  const ca = new Float64Array(BUCKETS);
  const cb = new Float64Array(BUCKETS);
  const last = BUCKETS - 1;
  countInto(a, lo, scale, ca, edgeArray, binned?.refCounts ?? null);
  countInto(b, lo, scale, cb, edgeArray, binned?.curCounts ?? null);
  // Exact gaps at boundaries, and each bucket's bound on the gap inside it.
  let best = 0;
  const bound = new Float64Array(BUCKETS);
  let ra = 0;
  let rb = 0;
  for (let k = 0; k < BUCKETS; k++) {
    const a0 = ra / n1;
    const b0 = rb / n2;
    ra += ca[k];
    rb += cb[k];
    const a1 = ra / n1;
    const b1 = rb / n2;
    const gap = Math.abs(a1 - b1);
    if (gap > best) best = gap;
    // Both sides present is the only case where the inside can beat the ends.
    bound[k] = ca[k] > 0 && cb[k] > 0 ? Math.max(Math.abs(a1 - b0), Math.abs(a0 - b1)) : 0;
  }
  let open = 0;
  let openValues = 0;
  for (let k = 0; k < BUCKETS; k++) {
    if (bound[k] > best) {
      open++;
      openValues += ca[k] + cb[k];
    } else bound[k] = 0;
  }
  if (open === 0) return { ks: { statistic: best, pValue: ksPValue(best, n1, n2) }, ...binned };
  if (openValues > (n1 + n2) / 8) return { ks: ksBySorting(a, b), ...binned };
  // Gather the open buckets' values, grouped by bucket (positions from prefix sums).
  const startA = new Map<number, number>();
  const startB = new Map<number, number>();
  let pa = 0;
  let pb = 0;
  for (let k = 0; k < BUCKETS; k++) {
    if (bound[k] === 0) continue;
    startA.set(k, pa);
    startB.set(k, pb);
    pa += ca[k];
    pb += cb[k];
  }
  const va = new Float64Array(pa);
  const vb = new Float64Array(pb);
  const fillA = new Map(startA);
  const fillB = new Map(startB);
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v - v !== 0) continue;
    let k = ((v - lo) * scale) | 0;
    if (k > last) k = last;
    if (bound[k] !== 0) {
      const at = fillA.get(k)!;
      va[at] = v;
      fillA.set(k, at + 1);
    }
  }
  for (let i = 0; i < b.length; i++) {
    const v = b[i];
    if (v - v !== 0) continue;
    let k = ((v - lo) * scale) | 0;
    if (k > last) k = last;
    if (bound[k] !== 0) {
      const at = fillB.get(k)!;
      vb[at] = v;
      fillB.set(k, at + 1);
    }
  }
  // Walk each open bucket's values in order, from the exact CDFs at its start.
  ra = 0;
  rb = 0;
  for (let k = 0; k < BUCKETS; k++) {
    if (bound[k] !== 0 && bound[k] > best) {
      const xa = va.subarray(startA.get(k)!, startA.get(k)! + ca[k]).sort();
      const xb = vb.subarray(startB.get(k)!, startB.get(k)! + cb[k]).sort();
      let i = 0;
      let j = 0;
      while (i < xa.length && j < xb.length) {
        const x = xa[i] <= xb[j] ? xa[i] : xb[j];
        while (i < xa.length && xa[i] <= x) i++;
        while (j < xb.length && xb[j] <= x) j++;
        const gap = Math.abs((ra + i) / n1 - (rb + j) / n2);
        if (gap > best) best = gap;
      }
    }
    ra += ca[k];
    rb += cb[k];
  }
  return { ks: { statistic: best, pValue: ksPValue(best, n1, n2) }, ...binned };
}

function ksBySorting(a: ArrayLike<number>, b: ArrayLike<number>): TestResult {
  const finite = (x: ArrayLike<number>) => {
    const out: number[] = [];
    for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i])) out.push(x[i] === 0 ? 0 : x[i]);
    return radixSortFloat64(Float64Array.from(out));
  };
  return ksFromSorted(finite(a), finite(b));
}
