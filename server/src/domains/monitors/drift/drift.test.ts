import { describe, expect, it } from "vitest";
import {
  binCounts, binCountsSorted, chi2Sf, chiSquare, equalWidthEdges, hellinger, jensenShannon, kolmogorovSf, ks2samp, ksFromHistograms,
  ksTwoSample, logGamma, numericDrift, psi, radixSortFloat64, sortedFinite, totalVariation,
} from "./index";

// Reference numbers computed once with scipy 1.17.1 / numpy 2.4.6 on the same samples (the
// generator below is Park–Miller, exact in both languages):
//   stats.ks_2samp(x, y, method="asymp"), stats.chi2_contingency(t, correction=False),
//   spatial.distance.jensenshannon(p, q, base=2), stats.chi2.sf, stats.kstwobign.sf,
//   special.gammaln, np.histogram(np.clip(a, lo, hi), np.linspace(lo, hi, 21)).

function parkMiller(seed: number, n: number): number[] {
  const out: number[] = [];
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (16807 * x) % 2147483647;
    out.push(x / 2147483647);
  }
  return out;
}
const u1 = parkMiller(42, 800);
const u2 = parkMiller(4242, 600);
const u3 = parkMiller(7, 700);
const a = u1.map((v) => v * 10);
const b = u2.map((v) => v * v * 10 + 0.3);
const c = u3.map((v) => v * 10);

const close = (actual: number, expected: number, rel: number) => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(rel * Math.abs(expected) + 1e-15);

describe("special functions", () => {
  it("ln Γ matches scipy.special.gammaln", () => {
    for (const [x, want] of [[0.5, 0.5723649429247], [1, 0], [3.7, 1.428072326665388], [10, 12.801827480081469], [123.4, 469.3360974421906]]) {
      close(logGamma(x), want, 1e-12);
    }
  });
  it("χ² survival function matches scipy.stats.chi2.sf", () => {
    const cases = [[0.5, 1, 0.47950012218695337], [3.84, 1, 0.05004352124870519], [10, 4, 0.04042768199451279], [50, 30, 0.01240206071890054], [200, 150, 0.003973185970821635], [1e-3, 5, 0.9999999983185123]];
    for (const [x, k, want] of cases) close(chi2Sf(x, k), want, 1e-9);
  });
  it("Kolmogorov survival function matches scipy.stats.kstwobign.sf", () => {
    const cases = [[0.3, 0.9999906941986655], [0.5, 0.9639452436648751], [0.8, 0.5441424115741981], [1.0, 0.26999967167735456], [1.36, 0.049485876755377876], [2.0, 0.0006709252557796953], [3.0, 3.045995948942526e-8]];
    for (const [t, want] of cases) close(kolmogorovSf(t), want, 1e-9);
  });
});

describe("radix sort", () => {
  it("sorts like a comparison sort, negatives, zeros, subnormals and extremes included", () => {
    const values = new Float64Array(5000);
    parkMiller(99, 5000).forEach((u, i) => (values[i] = (u - 0.5) * 10 ** ((i % 12) - 6)));
    values.set([0, -0, 5e-324, -5e-324, Number.MAX_VALUE, -Number.MAX_VALUE, 1, 1, 1], 100);
    const expected = Float64Array.from(values).sort();
    expect(Array.from(radixSortFloat64(Float64Array.from(values)))).toEqual(Array.from(expected));
  });
  it("leaves out NaN and infinities", () => {
    expect(Array.from(sortedFinite([3, Number.NaN, -1, Infinity, -Infinity, 2]))).toEqual([-1, 2, 3]);
  });
});

describe("two-sample KS", () => {
  it("statistic equals scipy's exactly and the p-value is within 5% of its asymptotic p-value", () => {
    const same = ks2samp(a, c);
    expect(same.statistic).toBeCloseTo(0.0798214285714286, 12);
    close(same.pValue, 0.01629041933605479, 0.05);
    const ties = ks2samp(u1.map((v) => Math.floor(v * 20)), u2.map((v) => Math.floor(v * 18)));
    expect(ties.statistic).toBeCloseTo(0.08750000000000002, 12);
    close(ties.pValue, 0.009822786998099445, 0.05);
    const shifted = ks2samp(a, b);
    expect(shifted.statistic).toBeCloseTo(0.23875000000000002, 12);
    expect(shifted.pValue).toBeLessThan(1e-14); // scipy: 1.09e-17
  });
  it("is symmetric, zero for identical samples and NaN for an empty side", () => {
    expect(ks2samp(b, a).statistic).toBe(ks2samp(a, b).statistic);
    expect(ks2samp(a, a)).toEqual({ statistic: 0, pValue: 1 });
    expect(ks2samp([], a).statistic).toBeNaN();
  });
  it("from histograms is the raw statistic seen at bin edges (never above it)", () => {
    const edges = equalWidthEdges(Math.min(...a), Math.max(...a), 20);
    const ha = binCounts(a, edges);
    const hb = binCounts(b, edges);
    expect(Array.from(ha)).toEqual([37, 41, 35, 39, 39, 40, 50, 44, 50, 43, 48, 26, 40, 34, 46, 39, 43, 35, 28, 43]);
    expect(Array.from(hb)).toEqual([85, 71, 54, 24, 45, 34, 27, 22, 26, 24, 16, 24, 14, 17, 19, 13, 16, 16, 13, 40]);
    const binned = ksFromHistograms(ha, hb);
    expect(binned.statistic).toBeLessThanOrEqual(0.23875000000000002 + 1e-12);
    expect(binned.statistic).toBeGreaterThan(0.2);
  });
  it("binning sorted values agrees with binning raw values", () => {
    const edges = equalWidthEdges(1, 8, 20); // a's values fall outside on both sides: end bins take them
    expect(Array.from(binCountsSorted(sortedFinite(b), edges))).toEqual(Array.from(binCounts(b, edges)));
    expect(Array.from(binCountsSorted(sortedFinite(a), edges))).toEqual(Array.from(binCounts(a, edges)));
  });
});

describe("distances between binned distributions", () => {
  const ref = [120, 80, 40, 10, 0, 5];
  const cur = [100, 90, 30, 20, 8, 0];
  it("match scipy / numpy", () => {
    close(jensenShannon(ref, cur), 0.18986394274942844, 1e-10);
    close(totalVariation(ref, cur), 0.12286527514231502, 1e-12);
    close(hellinger(ref, cur), 0.18162039914639108, 1e-10);
    close(psi(ref, cur), 0.3454936575724734, 1e-10);
    const chi = chiSquare(ref, cur);
    close(chi.statistic, 20.074794232568536, 1e-10);
    close(chi.pValue, 0.001209977435825761, 1e-8);
    expect(chi.dof).toBe(5);
  });
  it("are zero for the same distribution at any sample size and bounded by 1", () => {
    const twice = ref.map((v) => v * 2);
    for (const f of [jensenShannon, totalVariation, hellinger, psi]) expect(f(ref, twice)).toBeCloseTo(0, 12);
    const disjoint = [[10, 0], [0, 10]];
    expect(totalVariation(disjoint[0], disjoint[1])).toBe(1);
    expect(hellinger(disjoint[0], disjoint[1])).toBeCloseTo(1, 12);
    expect(jensenShannon(disjoint[0], disjoint[1])).toBeCloseTo(1, 12);
  });
  it("refuse bins that do not line up", () => {
    expect(() => psi([1, 2], [1, 2, 3])).toThrow(/bins differ/);
  });
});

describe("KS without a full sort", () => {
  it("gives the same statistic as sorting, on continuous data, ties, outliers and tiny ranges", () => {
    const cases: [number[], number[]][] = [
      [a, b],
      [a, c],
      [u1.map((v) => Math.floor(v * 20)), u2.map((v) => Math.floor(v * 18))],
      [[...a, 1e9], [...b, -1e9]], // outliers squeeze the data into few buckets
      [u1.map((v) => 1 + v * 1e-12), u2.map((v) => 1 + v * 1.1e-12)],
      [u1.map((v) => (v < 0.5 ? 0 : v)), u2],
    ];
    for (const [x, y] of cases) {
      const fast = ksTwoSample(x, y);
      expect(fast.statistic).toBe(ks2samp(x, y).statistic);
      expect(fast.pValue).toBe(ks2samp(x, y).pValue);
    }
  });
  it("agrees with sorting on 200 random sample pairs of mixed shapes", () => {
    const u = parkMiller(2024, 200 * 600);
    let at = 0;
    const next = () => u[at++];
    for (let t = 0; t < 200; t++) {
      const shape = t % 4;
      const draw = () => (shape === 0 ? next() : shape === 1 ? Math.floor(next() * 7) : shape === 2 ? next() ** 6 * 1e6 : next() < 0.3 ? 5 : next());
      const x = Array.from({ length: 100 + (t % 7) * 30 }, draw);
      const y = Array.from({ length: 90 + (t % 5) * 35 }, () => draw() + (t % 3 === 0 ? 0.05 : 0));
      expect(ksTwoSample(x, y).statistic).toBe(ks2samp(x, y).statistic);
    }
  });
  it("numericDrift bins both sides in the same pass exactly as binCounts does", () => {
    for (const [x, y] of [[a, b], [b, a], [a, c]]) {
      const d = numericDrift(x, y, 20);
      const edges = equalWidthEdges(Math.min(...x), Math.max(...x), 20);
      expect(d.edges).toEqual(edges);
      expect(Array.from(d.refCounts)).toEqual(Array.from(binCounts(x, edges)));
      expect(Array.from(d.curCounts)).toEqual(Array.from(binCounts(y, edges)));
      expect(d.ks.statistic).toBe(ks2samp(x, y).statistic);
    }
  });
  it("handles constant and empty samples", () => {
    expect(ksTwoSample([1, 1, 1], [1, 1])).toEqual({ statistic: 0, pValue: 1 });
    expect(ksTwoSample([1, 1, 1], [2, 2])).toMatchObject({ statistic: 1 });
    expect(ksTwoSample([Number.NaN], [1]).statistic).toBeNaN();
  });
});
