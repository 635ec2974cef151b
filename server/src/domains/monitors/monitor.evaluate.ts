import type { ColumnProfile, DatasetProfile } from "../datasets/profile.work";
import { binCounts, binCountsInRange, chiSquare, hellinger, jensenShannon, ksFromHistograms, psi, totalVariation } from "./drift";
import type { MonitorConfig } from "./monitor.config";
import type { MonitorStatus } from "./monitor-result.entity";

// Evaluates one window of logged predictions against the reference profile. Pure: the caller
// reads the rows and stores the result. Windows are bounded (OURO_MONITOR_MAX_WINDOW_ROWS), so
// this runs in the job's own process; the heavy raw-data path lives in ./drift.

export interface LoggedPrediction {
  requestId: string;
  inputs: Record<string, unknown>;
  outputs: { prediction?: unknown; probabilities?: unknown };
}

export type DriftStatus = Exclude<MonitorStatus, "no_data"> | "no_data";

export interface FeatureDrift {
  name: string;
  kind: "numeric" | "categorical";
  count: number;
  /** Mean of Hellinger and TVD: what the status thresholds apply to. */
  score: number | null;
  status: DriftStatus;
  metrics: Record<string, number | null>;
}

export interface QualityReport {
  status: "ok" | "detected";
  rows: number;
  /** Rows with a missing feature, a field the model does not take, or a value of the wrong type. */
  schemaViolations: number;
  schemaViolationRate: number;
  maxNullRate: number;
  maxNullRateIncrease: number;
  maxOutOfRange: number;
  maxUnseen: number;
  extraFields: string[];
  features: { name: string; nullRate: number; referenceNullRate: number; outOfRange: number | null; unseen: number | null; typeErrors: number; missing: number }[];
  reasons: string[];
}

export interface PerformanceReport {
  task: "classification" | "regression";
  labelled: number;
  accuracy?: number;
  f1?: number;
  rmse?: number;
  mae?: number;
}

export interface WindowEvaluation {
  status: MonitorStatus;
  driftScore: number | null;
  features: FeatureDrift[];
  prediction: FeatureDrift | null;
  performance: PerformanceReport | null;
  quality: QualityReport | null;
}

const OTHER = "\u0000other";

function statusOf(score: number | null, t: MonitorConfig["thresholds"]): DriftStatus {
  if (score === null || !Number.isFinite(score)) return "no_data";
  return score >= t.detected ? "detected" : score >= t.potential ? "potential_drift" : "ok";
}

const finite = (x: number) => (Number.isFinite(x) ? x : null);

/** Drift of one column: values as logged, against its reference profile. */
export function columnDrift(name: string, ref: ColumnProfile, values: unknown[], t: MonitorConfig["thresholds"]): FeatureDrift | null {
  if (ref.numeric && ref.numeric.histogram.edges.length > 1) {
    const nums: number[] = [];
    for (const v of values) if (typeof v === "number" && Number.isFinite(v)) nums.push(v);
    const refCounts = ref.numeric.histogram.counts;
    const { edges } = ref.numeric.histogram;
    // The profile's own min, max and bin count give its exact bin width (see binCountsInRange).
    const cur = ref.numeric.min !== null && ref.numeric.max !== null ? binCountsInRange(nums, ref.numeric.min, ref.numeric.max, edges.length - 1) : binCounts(nums, edges);
    if (nums.length === 0) return { name, kind: "numeric", count: 0, score: null, status: "no_data", metrics: {} };
    const h = hellinger(refCounts, cur);
    const tv = totalVariation(refCounts, cur);
    const ks = ksFromHistograms(refCounts, cur);
    const score = (h + tv) / 2;
    return {
      name, kind: "numeric", count: nums.length, score, status: statusOf(score, t),
      metrics: { hellinger: h, tvd: tv, psi: finite(psi(refCounts, cur)), ks: finite(ks.statistic), ksPValue: finite(ks.pValue), js: finite(jensenShannon(refCounts, cur)) },
    };
  }
  if (ref.categorical) {
    const known = new Map(ref.categorical.top.map((c) => [c.value, c.count]));
    const hasOther = ref.categorical.otherCount > 0;
    const refMap = new Map(known);
    if (hasOther) refMap.set(OTHER, ref.categorical.otherCount);
    const curMap = new Map<string, number>();
    let count = 0;
    for (const v of values) {
      if (v === null || v === undefined || typeof v === "object") continue;
      count++;
      let key = String(v);
      if (!known.has(key) && hasOther) key = OTHER; // beyond the profile's top-K: "other" on both sides
      curMap.set(key, (curMap.get(key) ?? 0) + 1);
    }
    if (count === 0) return { name, kind: "categorical", count: 0, score: null, status: "no_data", metrics: {} };
    const categories = [...new Set([...refMap.keys(), ...curMap.keys()])];
    const r = categories.map((c) => refMap.get(c) ?? 0);
    const c = categories.map((k) => curMap.get(k) ?? 0);
    const h = hellinger(r, c);
    const tv = totalVariation(r, c);
    const chi = chiSquare(r, c);
    const score = (h + tv) / 2;
    return {
      name, kind: "categorical", count, score, status: statusOf(score, t),
      metrics: { hellinger: h, tvd: tv, js: finite(jensenShannon(r, c)), chi2: finite(chi.statistic), chi2PValue: finite(chi.pValue) },
    };
  }
  return null;
}

function quality(profile: DatasetProfile, config: MonitorConfig, rows: LoggedPrediction[]): QualityReport {
  const limits = config.quality;
  const byName = new Map(profile.columns.map((c) => [c.name, c]));
  const expected = new Set(config.features);
  const extra = new Set<string>();
  const violating = new Set<number>();
  const features = config.features.map((name) => {
    const ref = byName.get(name);
    let nulls = 0;
    let missing = 0;
    let typeErrors = 0;
    let outside = 0;
    let unseen = 0;
    let present = 0;
    const known = ref?.categorical && ref.categorical.otherCount === 0 ? new Set(ref.categorical.top.map((c) => c.value)) : null;
    rows.forEach((row, i) => {
      if (!(name in row.inputs)) {
        missing++;
        nulls++;
        violating.add(i);
        return;
      }
      const v = row.inputs[name];
      if (v === null || v === undefined || (typeof v === "number" && Number.isNaN(v))) {
        nulls++;
        return;
      }
      present++;
      if (ref?.numeric) {
        if (typeof v !== "number") {
          typeErrors++;
          violating.add(i);
          return;
        }
        if ((ref.numeric.min !== null && v < ref.numeric.min) || (ref.numeric.max !== null && v > ref.numeric.max)) outside++;
      } else if (typeof v === "object") {
        typeErrors++;
        violating.add(i);
      } else if (known && !known.has(String(v))) unseen++;
    });
    const n = rows.length || 1;
    return {
      name,
      nullRate: nulls / n,
      referenceNullRate: ref?.nullFraction ?? 0,
      outOfRange: ref?.numeric ? outside / (present || 1) : null,
      unseen: known ? unseen / (present || 1) : null,
      typeErrors,
      missing,
    };
  });
  rows.forEach((row, i) => {
    for (const k of Object.keys(row.inputs)) {
      if (!expected.has(k) && k !== config.target) {
        extra.add(k);
        violating.add(i);
      }
    }
  });
  const n = rows.length || 1;
  const maxOf = (xs: (number | null)[]) => xs.reduce<number>((m, x) => (x !== null && x > m ? x : m), 0);
  const report: QualityReport = {
    status: "ok",
    rows: rows.length,
    schemaViolations: violating.size,
    schemaViolationRate: violating.size / n,
    maxNullRate: maxOf(features.map((f) => f.nullRate)),
    maxNullRateIncrease: maxOf(features.map((f) => f.nullRate - f.referenceNullRate)),
    maxOutOfRange: maxOf(features.map((f) => f.outOfRange)),
    maxUnseen: maxOf(features.map((f) => f.unseen)),
    extraFields: [...extra].sort().slice(0, 50),
    features,
    reasons: [],
  };
  if (report.schemaViolationRate > limits.schemaViolations) report.reasons.push(`${report.schemaViolations} row(s) break the schema`);
  if (report.maxNullRateIncrease > limits.nullRateIncrease) report.reasons.push(`null rate up by ${report.maxNullRateIncrease.toFixed(3)}`);
  if (report.maxOutOfRange > limits.outOfRange) report.reasons.push(`${(report.maxOutOfRange * 100).toFixed(1)}% of a feature's values outside the reference range`);
  if (report.maxUnseen > limits.unseen) report.reasons.push(`${(report.maxUnseen * 100).toFixed(1)}% of a feature's values are categories never seen in the reference`);
  if (report.reasons.length) report.status = "detected";
  return report;
}

function performance(config: MonitorConfig, rows: LoggedPrediction[], labels: Map<string, unknown>): PerformanceReport | null {
  const pairs: [unknown, unknown][] = [];
  for (const r of rows) if (labels.has(r.requestId)) pairs.push([r.outputs.prediction, labels.get(r.requestId)]);
  const task = config.task ?? (pairs.length && typeof pairs[0][0] === "number" && typeof pairs[0][1] === "number" ? "regression" : "classification");
  if (pairs.length === 0) return { task, labelled: 0 };
  if (task === "regression") {
    let se = 0;
    let ae = 0;
    let n = 0;
    for (const [p, y] of pairs) {
      const a = Number(p);
      const b = Number(y);
      if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
      se += (a - b) ** 2;
      ae += Math.abs(a - b);
      n++;
    }
    return n ? { task, labelled: n, rmse: Math.sqrt(se / n), mae: ae / n } : { task, labelled: 0 };
  }
  // Classification: accuracy and macro F1 over the classes seen in labels or predictions.
  const classes = new Set<string>();
  let correct = 0;
  const tp = new Map<string, number>();
  const fp = new Map<string, number>();
  const fn = new Map<string, number>();
  const inc = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
  for (const [p, y] of pairs) {
    const ps = String(p);
    const ys = String(y);
    classes.add(ps).add(ys);
    if (ps === ys) {
      correct++;
      inc(tp, ps);
    } else {
      inc(fp, ps);
      inc(fn, ys);
    }
  }
  let f1 = 0;
  for (const c of classes) {
    const t = tp.get(c) ?? 0;
    const denom = 2 * t + (fp.get(c) ?? 0) + (fn.get(c) ?? 0);
    f1 += denom ? (2 * t) / denom : 0;
  }
  return { task, labelled: pairs.length, accuracy: correct / pairs.length, f1: f1 / classes.size };
}

const RANK: Record<DriftStatus, number> = { no_data: -1, ok: 0, potential_drift: 1, detected: 2 };

export function evaluateWindow(profile: DatasetProfile, config: MonitorConfig, rows: LoggedPrediction[], labels: Map<string, unknown>): WindowEvaluation {
  const byName = new Map(profile.columns.map((c) => [c.name, c]));
  const kinds = new Set(config.kinds);
  const features: FeatureDrift[] = [];
  if (kinds.has("data_drift") && rows.length) {
    for (const name of config.features) {
      const ref = byName.get(name);
      if (!ref) continue;
      const d = columnDrift(name, ref, rows.map((r) => r.inputs[name]), config.thresholds);
      if (d) features.push(d);
    }
  }
  let prediction: FeatureDrift | null = null;
  if (kinds.has("prediction_drift") && rows.length && config.target && byName.has(config.target)) {
    prediction = columnDrift(config.target, byName.get(config.target)!, rows.map((r) => r.outputs.prediction), config.thresholds);
  }
  const scored = [...features, ...(prediction ? [prediction] : [])].filter((f) => f.score !== null);
  const driftScore = scored.length ? Math.max(...scored.map((f) => f.score!)) : null;
  let status: MonitorStatus = "no_data";
  for (const f of scored) if (RANK[f.status] > RANK[status]) status = f.status;
  if (rows.length && status === "no_data" && !kinds.has("data_drift") && !kinds.has("prediction_drift")) status = "ok";
  return {
    status,
    driftScore,
    features,
    prediction,
    performance: kinds.has("performance") ? performance(config, rows, labels) : null,
    quality: kinds.has("data_quality") && rows.length ? quality(profile, config, rows) : null,
  };
}

/** A result's value for an alert rule's metric; null when the window did not measure it. */
export function metricValue(r: { status: MonitorStatus; driftScore: number | null; details: Record<string, unknown> }, metric: string): number | null {
  const d = r.details as Partial<WindowEvaluation>;
  if (metric === "status") return r.status === "no_data" ? null : RANK[r.status];
  if (metric === "driftScore") return r.driftScore;
  if (metric === "prediction") return d.prediction?.score ?? null;
  if (metric.startsWith("feature:")) return d.features?.find((f) => f.name === metric.slice(8))?.score ?? null;
  if (metric.startsWith("performance.")) {
    const v = (d.performance as Record<string, unknown> | null | undefined)?.[metric.slice(12)];
    return typeof v === "number" ? v : null;
  }
  if (metric.startsWith("quality.")) {
    const v = (d.quality as Record<string, unknown> | null | undefined)?.[metric.slice(8)];
    return typeof v === "number" ? v : null;
  }
  return null;
}

export const RULE_METRICS = [
  "status (0 ok, 1 potential drift, 2 detected)", "driftScore", "feature:<name>", "prediction",
  "performance.accuracy", "performance.f1", "performance.rmse", "performance.mae",
  "quality.schemaViolationRate", "quality.maxNullRate", "quality.maxNullRateIncrease", "quality.maxOutOfRange", "quality.maxUnseen",
];

export function checkRuleMetric(metric: string, features: string[]): string | null {
  if (["status", "driftScore", "prediction"].includes(metric)) return null;
  if (metric.startsWith("feature:")) return features.includes(metric.slice(8)) ? null : `the monitor does not watch feature ${metric.slice(8)}`;
  if (["performance.accuracy", "performance.f1", "performance.rmse", "performance.mae"].includes(metric)) return null;
  if (["quality.schemaViolationRate", "quality.maxNullRate", "quality.maxNullRateIncrease", "quality.maxOutOfRange", "quality.maxUnseen"].includes(metric)) return null;
  return `unknown metric ${metric}; one of: ${RULE_METRICS.join(", ")}`;
}
