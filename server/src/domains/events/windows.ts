import type { Aggregation } from "./event.entity";

// Exact sliding windows from per-minute buckets.
//
// Definition (the same in streaming and in batch, see events.work.ts): the value of an
// aggregation with a window of W minutes, as of time T, aggregates the events of the entity
// with event time <= T whose minute is one of the W minutes ending with T's minute:
//   minute(e) >= minute(T) - (W - 1)  and  time(e) <= T
// Online values are taken as of the entity's latest event time, where the second condition
// always holds, so summing the whole buckets of those W minutes is exact.

export const MINUTE_MS = 60_000;
export const minuteOf = (ms: number) => Math.floor(ms / MINUTE_MS);

/** Partial aggregates of one field within one minute. */
export interface FieldStats {
  /** Count, sum, min, max (numeric fields). */
  n?: number;
  s?: number;
  mn?: number;
  mx?: number;
  /** Time, event id and value of the latest event (ties broken by the greater event id). */
  lt?: number;
  li?: string;
  lv?: unknown;
  /** Distinct values, as strings. */
  d?: string[];
}

export interface BucketStats {
  /** Events in the minute. */
  n: number;
  f: Record<string, FieldStats>;
}

export interface BucketEvent {
  id: string;
  t: number;
  values: Record<string, unknown>;
}

/** What each field needs kept in its buckets, from the aggregations that use it. */
export interface FieldNeeds {
  numeric: boolean;
  last: boolean;
  distinct: boolean;
}

export function fieldNeeds(aggregations: Aggregation[]): Map<string, FieldNeeds> {
  const needs = new Map<string, FieldNeeds>();
  for (const a of aggregations) {
    if (!a.field) continue;
    const n = needs.get(a.field) ?? { numeric: false, last: false, distinct: false };
    if (["sum", "mean", "min", "max"].includes(a.function)) n.numeric = true;
    if (a.function === "last") n.last = true;
    if (a.function === "distinct_count") n.distinct = true;
    needs.set(a.field, n);
  }
  return needs;
}

const later = (t1: number, id1: string, t2: number | undefined, id2: string | undefined) => t2 === undefined || t1 > t2 || (t1 === t2 && id1 > id2!);

/** Adds one event to a bucket (in place). */
export function addToBucket(bucket: BucketStats, e: BucketEvent, needs: Map<string, FieldNeeds>): void {
  bucket.n += 1;
  for (const [field, need] of needs) {
    const v = e.values[field];
    const st = (bucket.f[field] ??= {});
    if (need.numeric) {
      const x = v as number;
      st.n = (st.n ?? 0) + 1;
      st.s = (st.s ?? 0) + x;
      st.mn = st.mn === undefined ? x : Math.min(st.mn, x);
      st.mx = st.mx === undefined ? x : Math.max(st.mx, x);
    }
    if (need.last && later(e.t, e.id, st.lt, st.li)) {
      st.lt = e.t;
      st.li = e.id;
      st.lv = v;
    }
    if (need.distinct) {
      const key = String(v);
      if (!st.d) st.d = [key];
      else if (!st.d.includes(key)) st.d.push(key);
    }
  }
}

/**
 * Window values of one entity as of `asOf` (ms) from its buckets (minute index → stats),
 * which must hold every event of the entity at or before `asOf` in the longest window.
 */
export function windowValues(buckets: Map<number, BucketStats>, aggregations: Aggregation[], asOf: number): Record<string, unknown> {
  const end = minuteOf(asOf);
  const out: Record<string, unknown> = {};
  // Minutes in order, so sums add up in the same order every time.
  const sorted = [...buckets.keys()].sort((x, y) => x - y);
  for (const a of aggregations) {
    const start = end - (a.windowMinutes - 1);
    let n = 0;
    let s = 0;
    let mn: number | undefined;
    let mx: number | undefined;
    let lt: number | undefined;
    let li: string | undefined;
    let lv: unknown = null;
    // Only distinct_count needs the set (one per entity and aggregation otherwise, for nothing).
    const distinct = a.function === "distinct_count" ? new Set<string>() : null;
    for (const m of sorted) {
      if (m < start || m > end) continue;
      const b = buckets.get(m)!;
      if (!a.field) {
        n += b.n;
        continue;
      }
      const st = b.f[a.field];
      if (!st) continue;
      if (st.n !== undefined) {
        n += st.n;
        s += st.s!;
        mn = mn === undefined ? st.mn : Math.min(mn, st.mn!);
        mx = mx === undefined ? st.mx : Math.max(mx, st.mx!);
      }
      if (st.lt !== undefined && later(st.lt, st.li!, lt, li)) {
        lt = st.lt;
        li = st.li;
        lv = st.lv;
      }
      if (distinct && st.d) for (const v of st.d) distinct.add(v);
    }
    switch (a.function) {
      case "count":
        out[a.name] = n;
        break;
      case "sum":
        out[a.name] = s;
        break;
      case "mean":
        out[a.name] = n ? s / n : null;
        break;
      case "min":
        out[a.name] = mn ?? null;
        break;
      case "max":
        out[a.name] = mx ?? null;
        break;
      case "last":
        out[a.name] = lv ?? null;
        break;
      case "distinct_count":
        out[a.name] = distinct!.size;
        break;
    }
  }
  return out;
}
