import { describe, expect, it } from "vitest";
import type { Aggregation } from "./event.entity";
import { parseEventTime } from "./validate";
import { addToBucket, type BucketEvent, type BucketStats, fieldNeeds, MINUTE_MS, minuteOf, windowValues } from "./windows";

const AGGS: Aggregation[] = [
  { name: "n_5m", function: "count", field: null, windowMinutes: 5 },
  { name: "sum_1h", function: "sum", field: "x", windowMinutes: 60 },
  { name: "mean_1h", function: "mean", field: "x", windowMinutes: 60 },
  { name: "min_10m", function: "min", field: "x", windowMinutes: 10 },
  { name: "max_10m", function: "max", field: "x", windowMinutes: 10 },
  { name: "last_1h", function: "last", field: "tag", windowMinutes: 60 },
  { name: "distinct_1h", function: "distinct_count", field: "tag", windowMinutes: 60 },
];

function random(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The definition, read literally: events with time <= T in the W minutes ending with T's minute. */
function naive(events: BucketEvent[], a: Aggregation, asOf: number): unknown {
  const inWindow = events
    .filter((e) => e.t <= asOf && minuteOf(e.t) >= minuteOf(asOf) - (a.windowMinutes - 1))
    .sort((p, q) => p.t - q.t || (p.id < q.id ? -1 : 1));
  const xs = inWindow.map((e) => (a.field ? e.values[a.field] : 1)) as number[];
  switch (a.function) {
    case "count":
      return xs.length;
    case "sum":
      return xs.reduce((s, x) => s + x, 0);
    case "mean":
      return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : null;
    case "min":
      return xs.length ? Math.min(...xs) : null;
    case "max":
      return xs.length ? Math.max(...xs) : null;
    case "last":
      return xs.length ? xs[xs.length - 1] : null;
    case "distinct_count":
      return new Set(xs.map(String)).size;
  }
}

describe("minute-bucket windows", () => {
  it("equal the definition for events arriving in any order (integer values: exact)", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rnd = random(seed);
      const t0 = Date.UTC(2024, 0, 1, 12, 0, 0);
      const events: BucketEvent[] = Array.from({ length: 200 }, (_, i) => ({
        id: `e${Math.floor(rnd() * 1000)}-${i}`,
        // Clustered times, with ties, across about 2 hours.
        t: t0 + Math.floor(rnd() * 120) * MINUTE_MS + (rnd() < 0.2 ? 0 : Math.floor(rnd() * 60_000)),
        values: { x: Math.floor(rnd() * 100) - 50, tag: ["a", "b", "c", "d"][Math.floor(rnd() * 4)] },
      }));
      const buckets = new Map<number, BucketStats>();
      const needs = fieldNeeds(AGGS);
      for (const e of [...events].sort(() => rnd() - 0.5)) {
        const m = minuteOf(e.t);
        if (!buckets.has(m)) buckets.set(m, { n: 0, f: {} });
        addToBucket(buckets.get(m)!, e, needs);
      }
      const asOf = Math.max(...events.map((e) => e.t));
      const got = windowValues(buckets, AGGS, asOf);
      for (const a of AGGS) expect(got[a.name], `seed ${seed} ${a.name}`).toEqual(naive(events, a, asOf));
    }
  });

  it("put the window edge on whole minutes: the first minute counts, the one before does not", () => {
    const asOf = Date.UTC(2024, 0, 1, 12, 30, 45);
    const start = (minuteOf(asOf) - 4) * MINUTE_MS; // a 5-minute window: 12:26:00 .. 12:30:45
    const needs = fieldNeeds(AGGS);
    const buckets = new Map<number, BucketStats>();
    for (const [id, t] of [["in", start], ["out", start - 1], ["now", asOf]] as const) {
      const m = minuteOf(t);
      if (!buckets.has(m)) buckets.set(m, { n: 0, f: {} });
      addToBucket(buckets.get(m)!, { id, t, values: { x: 1, tag: id } }, needs);
    }
    expect(windowValues(buckets, AGGS, asOf).n_5m).toBe(2);
  });

  it("break ties in `last` by the greater event id, whatever the arrival order", () => {
    const needs = fieldNeeds(AGGS);
    const t = Date.UTC(2024, 0, 1);
    for (const order of [["a", "b"], ["b", "a"]]) {
      const b: BucketStats = { n: 0, f: {} };
      for (const id of order) addToBucket(b, { id, t, values: { x: 0, tag: `tag-${id}` } }, needs);
      expect(windowValues(new Map([[minuteOf(t), b]]), AGGS, t).last_1h).toBe("tag-b");
    }
  });
});

describe("event times", () => {
  it("take ISO 8601 with a zone or epoch ms, and refuse the rest", () => {
    expect(parseEventTime("2024-01-01T00:00:00Z")).toBe(Date.UTC(2024, 0, 1));
    expect(parseEventTime("2024-01-01T01:00:00+01:00")).toBe(Date.UTC(2024, 0, 1));
    expect(parseEventTime(1_700_000_000_123)).toBe(1_700_000_000_123);
    for (const bad of ["2024-01-01T00:00:00", "2024-01-01", "yesterday", "", -1, Number.NaN, null, {}, "2024-13-01T00:00:00Z"]) {
      expect(parseEventTime(bad), String(bad)).toBeNull();
    }
  });
});
