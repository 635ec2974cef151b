// Scalar semantics in plain JavaScript, written to match what the batch path asks polars
// to do (see polars-types.ts castExpr). Everything the row path knows about parsing,
// formatting, comparing and date arithmetic lives here. No polars import.
import type { Dtype } from "./dtypes";

// Text accepted as a number / integer / date / datetime. The batch path tests the same
// patterns before casting, so both paths agree on which strings parse; anything else is null.
export const FLOAT_PATTERN = "^[+-]?(?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?$";
export const INT_PATTERN = "^[+-]?[0-9]+$";
export const DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$";
export const DATETIME_PATTERN =
  "^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ](?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\\.[0-9]{1,9})?Z?$";
const FLOAT_RE = new RegExp(FLOAT_PATTERN);
const INT_RE = new RegExp(INT_PATTERN);
const DATE_RE = new RegExp(DATE_PATTERN);
const DATETIME_RE = new RegExp(DATETIME_PATTERN);
const INT64_LIMIT = 2 ** 63;
const DAY_MS = 86_400_000;

export function parseFloatText(text: string): number | null {
  return FLOAT_RE.test(text) ? Number(text) : null;
}

export function parseIntText(text: string): number | null {
  if (!INT_RE.test(text)) return null;
  const value = Number(text);
  return Math.abs(value) < INT64_LIMIT ? value : null;
}

/** "true"/"false" in any case; polars has no string→bool cast, so this is the engine's rule. */
export function parseBoolText(text: string): boolean | null {
  const lower = text.toLowerCase();
  return lower === "true" ? true : lower === "false" ? false : null;
}

/** A valid calendar date "YYYY-MM-DD" → itself; anything else → null. */
export function parseDateText(text: string): string | null {
  if (!DATE_RE.test(text)) return null;
  const ms = Date.UTC(Number(text.slice(0, 4)), Number(text.slice(5, 7)) - 1, Number(text.slice(8, 10)));
  return isoDate(ms) === text ? text : null;
}

/**
 * "YYYY-MM-DD", or "YYYY-MM-DD[T ]HH:MM:SS[.fraction][Z]" read as UTC → the canonical
 * "YYYY-MM-DDTHH:MM:SS.sssZ". Digits beyond milliseconds are dropped (datetimes are
 * millisecond precision on both paths). Offsets other than Z are not accepted.
 */
export function parseDatetimeText(text: string): string | null {
  if (DATE_RE.test(text)) {
    const date = parseDateText(text);
    return date === null ? null : `${date}T00:00:00.000Z`;
  }
  if (!DATETIME_RE.test(text)) return null;
  const date = parseDateText(text.slice(0, 10));
  if (date === null) return null;
  // Digits past the milliseconds are cut off as text (the batch path does the same), so
  // "…:59.9999" is "…:59.999" before and after 1970 alike.
  const millis = Number(((/\.([0-9]+)/.exec(text)?.[1] ?? "") + "000").slice(0, 3));
  return new Date(Date.parse(`${date}T${text.slice(11, 19)}.000Z`) + millis).toISOString();
}

export const isoDate = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/**
 * Float → text exactly as polars casts Float64 to String: plain decimals with a trailing
 * ".0" for whole numbers, scientific notation outside [1e-5, 1e16), "NaN", "inf".
 * (Checked against polars on 200k random values.)
 */
export function formatFloat(x: number): string {
  if (Number.isNaN(x)) return "NaN";
  if (!Number.isFinite(x)) return x > 0 ? "inf" : "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const abs = Math.abs(x);
  if (abs >= 1e16 || abs < 1e-5) return x.toExponential();
  const text = String(x);
  return text.includes(".") ? text : `${text}.0`;
}

type Cell = number | string | boolean | null;

/**
 * The engine's cast, value by value. `from` → `to` must be allowed by castAllowed; values
 * that cannot be read become null (as polars' non-strict cast does), never an error.
 */
export function castValue(value: Cell, from: Dtype, to: Dtype): Cell {
  if (value === null || from === to) return value;
  switch (to) {
    case "float":
      if (typeof value === "boolean") return value ? 1 : 0;
      return typeof value === "number" ? value : parseFloatText(value);
    case "int":
      if (typeof value === "boolean") return value ? 1 : 0;
      if (typeof value === "string") return parseIntText(value);
      // + 0 turns -0 into 0: an Int64 has no negative zero.
      return Number.isFinite(value) && Math.abs(value) < INT64_LIMIT ? Math.trunc(value) + 0 : null;
    case "bool":
      if (typeof value === "string") return parseBoolText(value);
      return value !== 0;
    case "string":
      if (from === "float") return formatFloat(value as number);
      return String(value);
    case "date":
      return from === "string" ? parseDateText(value as string) : isoDate(Date.parse(value as string));
    case "datetime":
      return from === "string" ? parseDatetimeText(value as string) : `${value as string}T00:00:00.000Z`;
    default:
      return value;
  }
}

/**
 * Total order as polars compares: numbers with NaN equal to itself and above every other
 * number, strings by code point (= UTF-8 byte order; JavaScript's `<` compares UTF-16
 * units, which differs for characters outside the BMP), false < true, ISO dates as text.
 */
export function compareValues(a: number | string | boolean, b: number | string | boolean): number {
  if (typeof a === "number" && typeof b === "number") {
    const aNaN = Number.isNaN(a);
    const bNaN = Number.isNaN(b);
    if (aNaN || bNaN) return aNaN === bNaN ? 0 : aNaN ? 1 : -1;
    return a < b ? -1 : a > b ? 1 : 0;
  }
  if (typeof a === "string" && typeof b === "string") return compareCodePoints(a, b);
  return Number(a) - Number(b);
}

function compareCodePoints(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.codePointAt(i) as number;
    const cb = b.codePointAt(j) as number;
    if (ca !== cb) return ca < cb ? -1 : 1;
    i += ca > 0xffff ? 2 : 1;
    j += cb > 0xffff ? 2 : 1;
  }
  return i < a.length ? 1 : j < b.length ? -1 : 0;
}

/** Number of Unicode scalar values, which is what polars' str.lengths() counts. */
export function charLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0xd800 || code > 0xdbff) n++;
  }
  return n;
}

export type DatePart = "year" | "month" | "day" | "weekday" | "hour" | "dayOfYear";

/** A part of an ISO date or datetime string, as polars' dt namespace computes it (UTC). */
export function datePart(iso: string, part: DatePart): number {
  const ms = Date.parse(iso.length === 10 ? `${iso}T00:00:00.000Z` : iso);
  const date = new Date(ms);
  switch (part) {
    case "year":
      return date.getUTCFullYear();
    case "month":
      return date.getUTCMonth() + 1;
    case "day":
      return date.getUTCDate();
    case "hour":
      return date.getUTCHours();
    case "weekday":
      return ((date.getUTCDay() + 6) % 7) + 1; // ISO: Monday = 1 … Sunday = 7
    case "dayOfYear":
      return Math.floor((ms - Date.UTC(date.getUTCFullYear(), 0, 1)) / DAY_MS) + 1;
  }
}
