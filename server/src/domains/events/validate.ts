import type { EventField, EventSourceEntity } from "./event.entity";

/** An event that passed validation. */
export interface GoodEvent {
  index: number;
  id: string;
  /** The entity key as stored online: the value, or a JSON array for composite keys. */
  key: string;
  t: number;
  values: Record<string, unknown>;
}

export interface Rejection {
  index: number;
  eventId: string | null;
  reason: string;
  /** Refused for being older than the watermark allows (a resend of a stored event is not). */
  late?: true;
}

export interface Validated {
  good: GoodEvent[];
  rejected: Rejection[];
  /** Indexes of events whose id came earlier in the same batch. */
  duplicateIndexes: number[];
}

const MAX_STRING = 1000;
/** Stands for an NDJSON line that is not JSON, so it is rejected at its own index. */
export const UNPARSEABLE = Symbol("unparseable");
const MAX_ID = 200;

/** Same rule as the batch feature store (features.work.ts entityKeyOf). */
export function entityKeyOf(values: unknown[]): string {
  return values.length === 1 ? String(values[0]) : JSON.stringify(values);
}

function typeError(f: EventField, v: unknown): string | null {
  if (v === null || v === undefined) return `field ${f.name} is missing`;
  switch (f.type) {
    case "string":
      if (typeof v !== "string") return `field ${f.name} must be a string, got ${typeof v}`;
      if (v.length > MAX_STRING) return `field ${f.name} is longer than ${MAX_STRING} characters`;
      // PostgreSQL text cannot hold a NUL character.
      return v.includes("\u0000") ? `field ${f.name} contains a NUL character (\\u0000)` : null;
    case "integer":
      return typeof v === "number" && Number.isSafeInteger(v) ? null : `field ${f.name} must be an integer, got ${JSON.stringify(v)?.slice(0, 40)}`;
    case "float":
      return typeof v === "number" && Number.isFinite(v) ? null : `field ${f.name} must be a number, got ${JSON.stringify(v)?.slice(0, 40)}`;
    case "boolean":
      return typeof v === "boolean" ? null : `field ${f.name} must be a boolean, got ${JSON.stringify(v)?.slice(0, 40)}`;
  }
}

/** Event time: an ISO 8601 string with a time zone, or epoch milliseconds. */
export function parseEventTime(v: unknown): number | null {
  if (typeof v === "number") return Number.isFinite(v) && v >= 0 && v < 8.64e15 ? Math.floor(v) : null;
  if (typeof v !== "string" || v.length > 40) return null;
  // Without a zone an ISO time would be read in the server's zone: refuse the ambiguity.
  if (!/(Z|[+-]\d\d:?\d\d)$/i.test(v.trim())) return null;
  const ms = Date.parse(v);
  return Number.isFinite(ms) && ms >= 0 ? ms : null;
}

/**
 * Checks each event against the source's schema. Bad events get a reason; good ones are kept.
 * `watermark` is the latest event time accepted before this batch: events older than it
 * minus the allowed lateness are refused (never stored), so the history and the online
 * values always describe the same events.
 */
export function validateEvents(raw: unknown[], source: EventSourceEntity, entityKeys: string[], timeColumn: string, now: number): Validated {
  const fields = new Map(source.fields.map((f) => [f.name, f]));
  const allowed = new Set([...fields.keys(), timeColumn, source.eventIdColumn]);
  const futureLimit = now + source.maxFutureSkewSeconds * 1000;
  const lateLimit = source.watermark ? source.watermark.getTime() - source.allowedLatenessSeconds * 1000 : -Infinity;
  const good: GoodEvent[] = [];
  const rejected: Rejection[] = [];
  const duplicateIndexes: number[] = [];
  const seen = new Set<string>();
  raw.forEach((e, index) => {
    if (e === UNPARSEABLE) return rejected.push({ index, eventId: null, reason: "not valid JSON" });
    if (typeof e !== "object" || e === null || Array.isArray(e)) return rejected.push({ index, eventId: null, reason: "an event must be a JSON object" });
    const obj = e as Record<string, unknown>;
    const rawId = obj[source.eventIdColumn];
    const id = typeof rawId === "string" && rawId.length > 0 && rawId.length <= MAX_ID && !rawId.includes("\u0000") ? rawId : Number.isSafeInteger(rawId) ? String(rawId) : null;
    const reject = (reason: string) => rejected.push({ index, eventId: id, reason });
    if (id === null) return reject(`missing or invalid event id ${source.eventIdColumn} (a string of 1 to ${MAX_ID} characters without NUL, or an integer)`);
    const unknown = Object.keys(obj).filter((k) => !allowed.has(k));
    if (unknown.length) return reject(`unknown field(s): ${unknown.slice(0, 5).join(", ")}`);
    const missingKeys = entityKeys.filter((k) => obj[k] === undefined || obj[k] === null);
    if (missingKeys.length) return reject(`missing entity key ${missingKeys.join(", ")}`);
    const t = parseEventTime(obj[timeColumn]);
    if (t === null) return reject(`missing or invalid event time ${timeColumn} (ISO 8601 with a time zone, or epoch milliseconds)`);
    if (t > futureLimit) return reject(`event time ${new Date(t).toISOString()} is more than ${source.maxFutureSkewSeconds} s in the future`);
    if (t < lateLimit) {
      return rejected.push({
        index,
        eventId: id,
        reason: `late: event time ${new Date(t).toISOString()} is older than the watermark ${source.watermark!.toISOString()} minus the allowed lateness of ${source.allowedLatenessSeconds} s`,
        late: true,
      });
    }
    const values: Record<string, unknown> = {};
    for (const f of source.fields) {
      const problem = typeError(f, obj[f.name]);
      if (problem) return reject(problem);
      values[f.name] = obj[f.name];
    }
    if (seen.has(id)) return duplicateIndexes.push(index);
    seen.add(id);
    good.push({ index, id, key: entityKeyOf(entityKeys.map((k) => obj[k])), t, values });
  });
  return { good, rejected, duplicateIndexes };
}
