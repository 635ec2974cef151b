import { readFileSync } from "node:fs";
import path from "node:path";
import pl from "nodejs-polars";
import { describe, expect, it } from "vitest";
import { profileFrame, schemaOf } from "../datasets/profile.work";
import { binCountsInRange, chiSquare, hellinger, ks2samp, ksFromHistograms, totalVariation } from "./drift";
import { checkQualityLimits, checkThresholds, checkWindow, DEFAULT_THRESHOLDS, type MonitorConfig } from "./monitor.config";
import { evaluateWindow, type LoggedPrediction, metricValue } from "./monitor.evaluate";

// Real data: the penguins, profiled by the same code as profileDataset.
type Penguin = Record<string, string | number | null>;
const FILE = path.resolve(__dirname, "../../../../node_modules/vega-datasets/data/penguins.json");
const penguins: Penguin[] = JSON.parse(readFileSync(FILE, "utf8"));
const frame = pl.readJSON(readFileSync(FILE), { format: "json" });
const profile = profileFrame(frame, schemaOf(frame));
const FEATURES = ["Island", "Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)", "Sex"];

const config = (over: Partial<MonitorConfig> = {}): MonitorConfig => ({
  kinds: ["data_drift", "prediction_drift", "performance", "data_quality"],
  features: FEATURES,
  window: { kind: "count", predictions: 100 },
  thresholds: { ...DEFAULT_THRESHOLDS },
  quality: checkQualityLimits(null),
  modelVersionId: null,
  target: "Species",
  task: null,
  anchor: new Date(0).toISOString(),
  startSeq: "0",
  ...over,
});

const logged = (rows: Penguin[], predict: (p: Penguin) => unknown = (p) => p.Species): LoggedPrediction[] =>
  rows.map((p, i) => {
    const inputs = Object.fromEntries(FEATURES.map((f) => [f, p[f]]));
    return { requestId: `r${i}`, inputs, outputs: { prediction: predict(p) } };
  });

describe("window evaluation on the penguins", () => {
  it("the reference data against itself is ok everywhere, with zero distances", () => {
    const r = evaluateWindow(profile, config(), logged(penguins), new Map());
    expect(r.status).toBe("ok");
    expect(r.driftScore).toBeCloseTo(0, 12);
    const island = r.features.find((f) => f.name === "Island")!;
    expect(island).toMatchObject({ kind: "categorical", count: 344, status: "ok" });
    expect(island.metrics.chi2).toBeCloseTo(0, 10);
    expect(island.metrics.chi2PValue).toBeCloseTo(1, 10);
    expect(r.quality).toMatchObject({ status: "ok", schemaViolations: 0, maxOutOfRange: 0, maxUnseen: 0 });
  });

  it("one island only: categorical drift detected, with the distances computed from the counts", () => {
    const biscoe = penguins.filter((p) => p.Island === "Biscoe");
    const r = evaluateWindow(profile, config(), logged(biscoe), new Map());
    const island = r.features.find((f) => f.name === "Island")!;
    // Reference counts from the profile, current: every row on Biscoe.
    const top = profile.columns.find((c) => c.name === "Island")!.categorical!.top;
    const ref = top.map((t) => t.count);
    const cur = top.map((t) => (t.value === "Biscoe" ? biscoe.length : 0));
    expect(island.metrics.hellinger).toBeCloseTo(hellinger(ref, cur), 12);
    expect(island.metrics.tvd).toBeCloseTo(totalVariation(ref, cur), 12);
    expect(island.metrics.chi2).toBeCloseTo(chiSquare(ref, cur).statistic, 8);
    expect(island.score).toBeCloseTo((hellinger(ref, cur) + totalVariation(ref, cur)) / 2, 12);
    expect(island.status).toBe(island.score! >= 0.7 ? "detected" : island.score! >= 0.5 ? "potential_drift" : "ok");
    expect(island.score).toBeGreaterThan(0.5);
    expect(r.status).not.toBe("ok");
  });

  it("thresholds are the monitor's: raising them turns the same window ok", () => {
    const biscoe = logged(penguins.filter((p) => p.Island === "Biscoe"));
    const strictR = evaluateWindow(profile, config(), biscoe, new Map());
    const lax = evaluateWindow(profile, config({ thresholds: { potential: 0.99, detected: 1 } }), biscoe, new Map());
    expect(strictR.driftScore).toBe(lax.driftScore);
    expect(lax.status).toBe("ok");
  });

  it("quality: unseen categories, values out of range, nulls", () => {
    const odd = penguins.slice(0, 100).map((p, i) => ({ ...p, Island: i < 20 ? "Atlantis" : p.Island, "Body Mass (g)": i < 10 ? 99_999 : p["Body Mass (g)"], "Beak Depth (mm)": i < 30 ? null : p["Beak Depth (mm)"] }));
    const r = evaluateWindow(profile, config(), logged(odd), new Map());
    const q = r.quality!;
    const byName = Object.fromEntries(q.features.map((f) => [f.name, f]));
    expect(byName.Island.unseen).toBeCloseTo(0.2, 12);
    expect(byName["Body Mass (g)"].outOfRange).toBeCloseTo(10 / 100, 12);
    expect(byName["Beak Depth (mm)"].nullRate).toBeCloseTo(0.3, 12);
    expect(q.status).toBe("detected");
    expect(q.reasons.length).toBe(3);
    expect(metricValue({ status: r.status, driftScore: r.driftScore, details: r as unknown as Record<string, unknown> }, "quality.maxUnseen")).toBeCloseTo(0.2, 12);
  });

  it("performance: accuracy and macro F1 from labels joined by request id", () => {
    const rows = logged(penguins.slice(0, 8), (p) => (p.Species === "Adelie" ? "Adelie" : "Gentoo"));
    // Labels for six of the eight: four right, two wrong.
    const labels = new Map<string, unknown>([["r0", "Adelie"], ["r1", "Adelie"], ["r2", "Adelie"], ["r3", "Adelie"], ["r4", "Chinstrap"], ["r5", "Gentoo"]]);
    const r = evaluateWindow(profile, config(), rows, labels);
    expect(r.performance).toMatchObject({ task: "classification", labelled: 6 });
    expect(r.performance!.accuracy).toBeCloseTo(4 / 6, 12);
    // Adelie: tp 4, fp 1 (r5 predicted Adelie, is Gentoo), fn 0 → 8/9; Chinstrap: tp 0, fn 1 → 0; Gentoo: tp 0, fp 0... (r4 predicted Adelie)
    const pred = rows.slice(0, 6).map((x) => String(x.outputs.prediction));
    const truth = [...labels.values()].map(String);
    const classes = [...new Set([...pred, ...truth])];
    const f1 = classes.reduce((s, c) => {
      const tp = pred.filter((p, i) => p === c && truth[i] === c).length;
      const fp = pred.filter((p, i) => p === c && truth[i] !== c).length;
      const fn = pred.filter((p, i) => p !== c && truth[i] === c).length;
      return s + (2 * tp + fp + fn ? (2 * tp) / (2 * tp + fp + fn) : 0);
    }, 0) / classes.length;
    expect(r.performance!.f1).toBeCloseTo(f1, 12);
    const reg = evaluateWindow(profile, config({ task: "regression" }), [{ requestId: "a", inputs: {}, outputs: { prediction: 3 } }, { requestId: "b", inputs: {}, outputs: { prediction: 1 } }], new Map<string, unknown>([["a", 1], ["b", 1]]));
    expect(reg.performance).toEqual({ task: "regression", labelled: 2, rmse: Math.sqrt(2), mae: 1 });
  });

  it("an empty window is no_data, and alert metrics read nothing from it", () => {
    const r = evaluateWindow(profile, config(), [], new Map());
    expect(r.status).toBe("no_data");
    expect(metricValue({ status: r.status, driftScore: r.driftScore, details: r as unknown as Record<string, unknown> }, "status")).toBeNull();
  });
});

describe("binning the window as the profile binned the reference", () => {
  it("the reference's own values give its profile's counts, edge values included (seattle-weather)", () => {
    const file = path.resolve(__dirname, "../../../../node_modules/vega-datasets/data/seattle-weather.csv");
    const df = pl.readCSV(readFileSync(file));
    const weather = profileFrame(df, schemaOf(df));
    const numeric = weather.columns.filter((c) => c.numeric);
    expect(numeric.map((c) => c.name)).toEqual(["precipitation", "temp_max", "temp_min", "wind"]);
    for (const c of numeric) {
      const values = df.getColumn(c.name).cast(pl.Float64).toArray() as number[];
      const { min, max, histogram } = c.numeric!;
      expect(Array.from(binCountsInRange(values, min!, max!, histogram.counts.length)), c.name).toEqual(histogram.counts);
      // So the histogram KS is a lower bound of the exact one, on any sample.
      const window = values.filter((_, i) => i % 7 === 3).slice(0, 200);
      expect(ksFromHistograms(histogram.counts, binCountsInRange(window, min!, max!, 20)).statistic).toBeLessThanOrEqual(ks2samp(values, window).statistic + 1e-12);
    }
  });
});

describe("monitor settings", () => {
  it("validates windows and thresholds", () => {
    expect(checkWindow(5, null)).toEqual({ kind: "time", minutes: 5 });
    expect(checkWindow(null, 500)).toEqual({ kind: "count", predictions: 500 });
    expect(() => checkWindow(null, null)).toThrow(/exactly one/);
    expect(() => checkWindow(1.5, null)).toThrow(/whole number/);
    expect(checkThresholds(null, null)).toEqual({ potential: 0.5, detected: 0.7 });
    expect(() => checkThresholds(0.9, 0.8)).toThrow(/must not exceed/);
    expect(() => checkThresholds(0, 0.8)).toThrow(/\(0, 1\]/);
    expect(() => checkThresholds(Number.NaN, 0.8)).toThrow();
    expect(() => checkQualityLimits({ outOfRange: 2 })).toThrow(/fraction/);
  });
});
