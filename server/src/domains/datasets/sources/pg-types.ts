import pl from "nodejs-polars";

/**
 * PostgreSQL result columns → polars Series. Values arrive as PostgreSQL's text form (every
 * pg type parser is switched off) and are converted here, so nothing passes through a lossy
 * JavaScript step: int8 and timestamps go through strings to Int64 (a JS number loses
 * integers past 2^53, and nodejs-polars 0.25 turns BigInt arrays into nulls), timestamps
 * keep their microseconds (a JS Date would cut them to milliseconds).
 *
 * The session runs with TimeZone=UTC and DateStyle=ISO so the text forms are the ones
 * parsed below. 'infinity' dates and timestamps have no polars value and become null.
 * Types without a polars counterpart here (time, interval, uuid, bytea, arrays, ranges, …)
 * are kept as their text form, like json and jsonb.
 */

export const PG_OID = {
  bool: 16,
  int8: 20,
  int2: 21,
  int4: 23,
  oid: 26,
  float4: 700,
  float8: 701,
  numeric: 1700,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
} as const;

type Raw = string | null;

export function seriesFromPg(name: string, typeOid: number, values: Raw[]): pl.Series {
  switch (typeOid) {
    case PG_OID.bool:
      return pl.Series(name, values.map((v) => (v === null ? null : v === "t")), pl.Bool);
    case PG_OID.int2:
      return pl.Series(name, values.map(toNumber), pl.Int16);
    case PG_OID.int4:
      return pl.Series(name, values.map(toNumber), pl.Int32);
    case PG_OID.int8:
    case PG_OID.oid:
      return pl.Series(name, values).cast(pl.Int64, true);
    case PG_OID.float4:
      return pl.Series(name, values.map(toNumber), pl.Float32);
    case PG_OID.float8:
    case PG_OID.numeric:
      // numeric is arbitrary precision; Float64 keeps ~15–17 significant digits. Users who
      // need exact decimals can cast to text in their query.
      return pl.Series(name, values.map(toNumber), pl.Float64);
    case PG_OID.date:
      return pl.Series(name, values.map(dateToDays), pl.Int32).cast(pl.Date);
    case PG_OID.timestamp:
      return pl.Series(name, values.map(timestampToMicros)).cast(pl.Int64, true).cast(pl.Datetime("us"));
    case PG_OID.timestamptz:
      return pl.Series(name, values.map(timestampToMicros)).cast(pl.Int64, true).cast(pl.Datetime("us", "UTC"));
    default:
      return pl.Series(name, values, pl.Utf8);
  }
}

const toNumber = (v: Raw) => (v === null ? null : Number(v)); // Number("NaN"), Number("Infinity") work

const DATE = /^(\d{4,})-(\d{2})-(\d{2})( BC)?$/;
const TIMESTAMP = /^(\d{4,})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(?:([+-])(\d{2})(?::(\d{2}))?(?::(\d{2}))?)?( BC)?$/;

/** Days since 1970-01-01 of PostgreSQL's ISO date text; null for null and ±infinity. */
export function dateToDays(text: Raw): number | null {
  if (text === null || text.endsWith("infinity")) return null;
  const m = DATE.exec(text);
  if (!m) throw new Error(`unexpected date text from PostgreSQL: ${text}`);
  return daysFromCivil(year(m[1]!, m[4]), Number(m[2]), Number(m[3]));
}

/** Microseconds since the epoch (UTC), as decimal text, of a timestamp or timestamptz. */
export function timestampToMicros(text: Raw): string | null {
  if (text === null || text.endsWith("infinity")) return null;
  const m = TIMESTAMP.exec(text);
  if (!m) throw new Error(`unexpected timestamp text from PostgreSQL: ${text}`);
  const days = daysFromCivil(year(m[1]!, m[12]), Number(m[2]), Number(m[3]));
  let seconds = days * 86_400 + Number(m[4]) * 3600 + Number(m[5]) * 60 + Number(m[6]);
  if (m[8]) {
    const offset = Number(m[9]) * 3600 + Number(m[10] ?? 0) * 60 + Number(m[11] ?? 0);
    seconds -= m[8] === "+" ? offset : -offset;
  }
  const fraction = BigInt((m[7] ?? "").padEnd(6, "0"));
  // BigInt: microseconds past year 2255 no longer fit a double exactly.
  return (BigInt(seconds) * 1_000_000n + fraction).toString();
}

/** "2000 BC" is astronomical year -1999 (there is no year 0 in the calendar, there is in ISO). */
const year = (digits: string, bc: string | undefined) => (bc ? 1 - Number(digits) : Number(digits));

/** Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}
