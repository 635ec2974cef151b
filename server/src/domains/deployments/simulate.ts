// Replaying a dataset against an endpoint: rows at a steady rate, optionally drifted on the
// way (numeric shifts and scales, a different category mix, flipped labels), with their true
// labels sent back after a delay — the way production traffic and ground truth arrive.
import { badInput } from "../../platform/errors";

export interface DriftSpec {
  /** Added to a numeric column: {"temp_max": 5}. */
  shift?: Record<string, number> | null;
  /** Multiplies a numeric column: {"precipitation": 2}. */
  scale?: Record<string, number> | null;
  /** Replaces a categorical column's values by draws from this mix: {"weather": {"rain": 0.8, "sun": 0.2}}. */
  categoryMix?: Record<string, Record<string, number>> | null;
  /** Fraction of labels replaced by a different class (concept drift in the ground truth). */
  flipLabels?: number | null;
}

export interface SimulationSpec {
  /** Rows per second. */
  rate: number;
  /** Rows per request. */
  batchSize: number;
  labelColumn: string | null;
  labelDelayMs: number;
  drift: DriftSpec;
  seed: number;
}

export function checkSimulation(s: SimulationSpec): SimulationSpec {
  if (!(s.rate > 0 && s.rate <= 100_000)) throw badInput("rate: 0 to 100000 rows per second", { field: "rate" });
  if (!Number.isInteger(s.batchSize) || s.batchSize < 1 || s.batchSize > 1000) throw badInput("batchSize: 1 to 1000 rows per request", { field: "batchSize" });
  if (!(s.labelDelayMs >= 0 && s.labelDelayMs <= 3_600_000)) throw badInput("labelDelaySeconds: 0 to 3600", { field: "labelDelaySeconds" });
  const d = s.drift;
  for (const [what, map] of [["shift", d.shift], ["scale", d.scale]] as const) {
    for (const [col, v] of Object.entries(map ?? {})) if (typeof v !== "number" || !Number.isFinite(v)) throw badInput(`drift.${what}.${col}: a finite number`, { field: `drift.${what}` });
  }
  for (const [col, mix] of Object.entries(d.categoryMix ?? {})) {
    const weights = Object.values(mix ?? {});
    if (weights.length === 0 || weights.some((w) => typeof w !== "number" || !(w >= 0)) || weights.reduce((a, b) => a + b, 0) <= 0) {
      throw badInput(`drift.categoryMix.${col}: weights ≥ 0 with a positive sum`, { field: "drift.categoryMix" });
    }
  }
  if (d.flipLabels != null && !(d.flipLabels >= 0 && d.flipLabels <= 1)) throw badInput("drift.flipLabels: a fraction from 0 to 1", { field: "drift.flipLabels" });
  if (d.flipLabels && !s.labelColumn) throw badInput("drift.flipLabels needs labelColumn", { field: "drift.flipLabels" });
  return s;
}

/** mulberry32: a small seeded generator, so a simulation replays the same way. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The row as the drifted world would send it. Missing values stay missing. */
export function driftRow(row: Record<string, unknown>, drift: DriftSpec, random: () => number): Record<string, unknown> {
  const out = { ...row };
  for (const [col, delta] of Object.entries(drift.shift ?? {})) if (typeof out[col] === "number") out[col] = (out[col] as number) + delta;
  for (const [col, factor] of Object.entries(drift.scale ?? {})) if (typeof out[col] === "number") out[col] = (out[col] as number) * factor;
  for (const [col, mix] of Object.entries(drift.categoryMix ?? {})) {
    if (out[col] === null || out[col] === undefined) continue;
    const entries = Object.entries(mix);
    const total = entries.reduce((s, [, w]) => s + w, 0);
    let u = random() * total;
    for (const [value, w] of entries) {
      if (u < w) {
        out[col] = value;
        break;
      }
      u -= w;
    }
  }
  return out;
}

/** A label, flipped to another observed class with probability `fraction`. */
export function maybeFlip(label: unknown, classes: unknown[], fraction: number, random: () => number): unknown {
  if (!fraction || random() >= fraction) return label;
  const others = classes.filter((c) => c !== label);
  return others.length ? others[Math.floor(random() * others.length)] : label;
}
