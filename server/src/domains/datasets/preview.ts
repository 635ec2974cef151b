import pl from "nodejs-polars";

const MAX_PREVIEW_ROWS = 500;

/** Plain JSON for a GraphQL client: dates as ISO text, 64-bit integers as numbers when exact. */
function jsonValue(v: unknown): unknown {
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "bigint") return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  if (Array.isArray(v)) return v.map(jsonValue);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonValue(x)]));
  if (typeof v === "number" && !Number.isFinite(v)) return null;
  return v;
}

/**
 * Rows [offset, offset + limit) of a stored Parquet file. Runs in the server process: a
 * bounded slice of a lazy scan reads little, so it does not need a task.
 */
export function previewParquet(file: string, offset: number, limit: number) {
  const take = Math.min(Math.max(1, limit), MAX_PREVIEW_ROWS);
  const start = Math.max(0, offset);
  const df = pl.scanParquet(file).slice(start, take).collectSync();
  return {
    columns: df.columns,
    rows: (df.toRecords() as Record<string, unknown>[]).map((r) => jsonValue(r) as Record<string, unknown>),
    offset: start,
  };
}
