import { closeSync, openSync, readSync } from "node:fs";

/**
 * Turning polars' error texts into messages a user can act on. polars writes for Python
 * users ("set `infer_schema_length`", "`ignore_errors=True`") and often gives a position
 * without a line, so the helpers here pull out what is reliable (column, value, byte offset)
 * and compute the line where they can. The patterns match nodejs-polars 0.25; when a message
 * changes shape they simply stop matching and the caller falls back to the bare reason.
 */

/** The first paragraph of a polars error, without its Python advice and byte offsets. */
export function polarsReason(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const first = message.split(/\n\s*\n/, 1)[0] ?? message;
  return first.replace(/\s+/g, " ").trim().slice(0, 300);
}

export interface CsvValueFailure {
  value: string;
  dtype: string;
  column: string;
  columnNumber: number;
  /** polars found a field with an unbalanced quote rather than a value of the wrong type. */
  badQuoting: boolean;
}

const CSV_VALUE = /could not parse `([\s\S]*?)` as dtype `([^`]+)` at column '([\s\S]*?)' \(column number (\d+)\)/;

export function parseCsvValueFailure(err: unknown): CsvValueFailure | undefined {
  const message = err instanceof Error ? err.message : String(err);
  const match = CSV_VALUE.exec(message);
  if (!match) return undefined;
  return {
    value: match[1]!,
    dtype: match[2]!,
    column: match[3]!,
    columnNumber: Number(match[4]),
    badQuoting: /not properly escaped/.test(message),
  };
}

/** "cannot parse 'x' (string) as Int64": an NDJSON value of another type than its column's. */
const JSON_VALUE = /cannot parse '([\s\S]*?)' \((\w+)\) as (\w+)/;
/** "error deserializing value "String("x")" as numeric": the JSON-array flavour of the same. */
const JSON_ARRAY_VALUE = /error deserializing value "([\s\S]*?)" as (\w+)/;

export interface JsonValueFailure {
  /** The JSON kind of the offending value as polars names it (string, bool, object, ...). */
  found?: string;
  expected: string;
}

export function parseJsonValueFailure(err: unknown): JsonValueFailure | undefined {
  const message = err instanceof Error ? err.message : String(err);
  const ndjson = JSON_VALUE.exec(message);
  if (ndjson) return { found: ndjson[2]!, expected: ndjson[3]! };
  const array = JSON_ARRAY_VALUE.exec(message);
  if (array) return { expected: array[2]! };
  if (/failed to determine supertype|extra field in struct data/.test(message)) return { expected: "one type" };
  return undefined;
}

/** "... at character 16 ('}')": simd-json's byte offset of a syntax error. */
export function jsonSyntaxOffset(err: unknown): number | undefined {
  const message = err instanceof Error ? err.message : String(err);
  const match = /at character (\d+)/.exec(message);
  return match ? Number(match[1]) : undefined;
}

/** 1-based line and character column of a byte offset, reading only up to it. */
export function lineAndColumnAt(file: string, byteOffset: number): { line: number; column: number } {
  const fd = openSync(file, "r");
  try {
    const chunk = Buffer.allocUnsafe(1024 * 1024);
    let line = 1;
    let column = 1;
    let pos = 0;
    while (pos < byteOffset) {
      const n = readSync(fd, chunk, 0, Math.min(chunk.length, byteOffset - pos), pos);
      if (n === 0) break;
      for (let i = 0; i < n; i++) {
        const byte = chunk[i]!;
        if (byte === 0x0a) {
          line++;
          column = 1;
        } else if ((byte & 0xc0) !== 0x80) {
          // Count characters, not bytes (continuation bytes are skipped), so that the column
          // matches what an editor shows.
          column++;
        }
      }
      pos += n;
    }
    return { line, column };
  } finally {
    closeSync(fd);
  }
}

export type JsonKind = "number" | "string" | "boolean" | "object" | "array";

export interface TypeChange {
  column: string;
  /** 1-based position of the record among the file's records. */
  row: number;
  from: JsonKind;
  to: JsonKind;
}

export function jsonKind(value: unknown): JsonKind | undefined {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) return "array";
  const kind = typeof value;
  if (kind === "number" || kind === "string" || kind === "boolean" || kind === "object") return kind;
  return undefined;
}

/**
 * The first record where a key holds a different kind of JSON value than before (nulls are
 * ignored; an int after a float is not a change). polars only says "cannot parse 'x' as
 * Int64", without the column or the row; this finds both.
 */
export function firstTypeChange(records: Iterable<unknown>): TypeChange | undefined {
  const kinds = new Map<string, JsonKind>();
  let row = 0;
  for (const record of records) {
    row++;
    if (typeof record !== "object" || record === null || Array.isArray(record)) continue;
    for (const [column, value] of Object.entries(record)) {
      const kind = jsonKind(value);
      if (!kind) continue;
      const before = kinds.get(column);
      if (!before) kinds.set(column, kind);
      else if (before !== kind) return { column, row, from: before, to: kind };
    }
  }
  return undefined;
}

/**
 * polars' advice names Python options; ours are called differently. A last sentence of
 * advice in our terms is added to the messages where it helps.
 */
export const INFER_ADVICE = "read it with a larger inferSchemaRows (or 0 to read csv columns as text)";
