import { badInput } from "../../platform/errors";

export const MONITOR_KINDS = ["data_drift", "prediction_drift", "performance", "data_quality"] as const;
export type MonitorKind = (typeof MONITOR_KINDS)[number];

/**
 * Default status thresholds, MLRun's: a feature's drift score is the mean of its Hellinger
 * distance and total variation distance to the reference (both in [0, 1]); ≥ 0.5 is potential
 * drift, ≥ 0.7 drift detected. The monitor's score is its worst feature's.
 */
export const DEFAULT_THRESHOLDS = { potential: 0.5, detected: 0.7 } as const;

/** Data quality: a window is flagged when any of these is exceeded (fractions of the window's rows). */
export const DEFAULT_QUALITY_LIMITS = { nullRateIncrease: 0.1, outOfRange: 0.05, unseen: 0.05, schemaViolations: 0 } as const;

export type MonitorWindow = { kind: "time"; minutes: number } | { kind: "count"; predictions: number };

export interface MonitorConfig {
  kinds: MonitorKind[];
  /** Input features to watch; every reference column but the target when not given. */
  features: string[];
  window: MonitorWindow;
  thresholds: { potential: number; detected: number };
  quality: { nullRateIncrease: number; outOfRange: number; unseen: number; schemaViolations: number };
  /** The model version whose training data is the reference, when it came from the deployment. */
  modelVersionId: string | null;
  /** Column of the reference that the model predicts: prediction drift compares against it. */
  target: string | null;
  task: "classification" | "regression" | null;
  /** Scheduled windows start here: time windows at `anchor`, count windows after `startSeq`. */
  anchor: string;
  startSeq: string;
}

export const MAX_WINDOW_MINUTES = 7 * 24 * 60;
export const MAX_WINDOW_PREDICTIONS = 1_000_000;

export function checkWindow(minutes: number | null | undefined, predictions: number | null | undefined): MonitorWindow {
  if ((minutes == null) === (predictions == null)) throw badInput("window: give exactly one of minutes or predictions", { field: "window" });
  if (minutes != null) {
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_WINDOW_MINUTES) throw badInput(`window.minutes must be a whole number from 1 to ${MAX_WINDOW_MINUTES}`, { field: "window.minutes" });
    return { kind: "time", minutes };
  }
  if (!Number.isInteger(predictions) || predictions! < 1 || predictions! > MAX_WINDOW_PREDICTIONS) {
    throw badInput(`window.predictions must be a whole number from 1 to ${MAX_WINDOW_PREDICTIONS}`, { field: "window.predictions" });
  }
  return { kind: "count", predictions: predictions! };
}

export function checkThresholds(potential: number | null | undefined, detected: number | null | undefined): { potential: number; detected: number } {
  const t = { potential: potential ?? DEFAULT_THRESHOLDS.potential, detected: detected ?? DEFAULT_THRESHOLDS.detected };
  for (const [k, v] of Object.entries(t)) {
    if (!Number.isFinite(v) || v <= 0 || v > 1) throw badInput(`thresholds.${k} must be a number in (0, 1]`, { field: `thresholds.${k}` });
  }
  if (t.potential > t.detected) throw badInput("thresholds.potential must not exceed thresholds.detected", { field: "thresholds" });
  return t;
}

export function checkQualityLimits(given: Partial<MonitorConfig["quality"]> | null | undefined): MonitorConfig["quality"] {
  const q = { ...DEFAULT_QUALITY_LIMITS, ...Object.fromEntries(Object.entries(given ?? {}).filter(([, v]) => v != null)) };
  for (const [k, v] of Object.entries(q)) {
    if (!(k in DEFAULT_QUALITY_LIMITS)) throw badInput(`quality: unknown limit ${k}`, { field: `quality.${k}` });
    if (typeof v !== "number" || !Number.isFinite(v) || v < 0 || v > 1) throw badInput(`quality.${k} must be a fraction from 0 to 1`, { field: `quality.${k}` });
  }
  return q as MonitorConfig["quality"];
}

/** Windows a monitor evaluates: `time`/`count` are scheduled, `latest` is runMonitorNow's. */
export type WindowSpec =
  | { kind: "time"; start: string; end: string }
  | { kind: "count"; afterSeq: string; size: number }
  | { kind: "latest" };

export function windowKey(w: WindowSpec, jobId: string): string {
  if (w.kind === "time") return `time:${w.end}`;
  if (w.kind === "count") return `count:${w.afterSeq}`;
  return `manual:${jobId}`;
}
