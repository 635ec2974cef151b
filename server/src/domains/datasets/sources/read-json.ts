import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import pl from "nodejs-polars";
import { badInput } from "../../../platform/errors";
import { GLOB_CHARS, type FormatSpec } from "./formats";
import type { JsonKind, TypeChange } from "./read-errors";
import { firstTypeChange, INFER_ADVICE, jsonSyntaxOffset, lineAndColumnAt, parseJsonValueFailure, polarsReason } from "./read-errors";
import { formatBytes, type PreparedText } from "./text-scan";

/**
 * JSON is inferred over the whole file unless the caller says otherwise: polars' NDJSON
 * reader silently drops a key that first appears after the inference window, and a
 * full-file pass costs less than losing a column without a word.
 */
export const DEFAULT_JSON_INFER_ROWS: number | null = null;

/** A JSON document is parsed in memory; past this size the user should send NDJSON. */
export const DEFAULT_MAX_JSON_BYTES = 512 * 1024 * 1024;

/** Locating a bad value means parsing in JavaScript too; only done for documents this small. */
const MAX_LOCATE_BYTES = 256 * 1024 * 1024;

const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

/** null is "the whole file" to polars; so is 0 for JSON (there is no all-text mode). */
const inferRows = (spec: FormatSpec) => (spec.inferSchemaRows ? spec.inferSchemaRows : DEFAULT_JSON_INFER_ROWS);

export const jsonTooLarge = (name: string, size: number, maxBytes: number) =>
  badInput(`file ${name} is a ${formatBytes(size)} JSON document, more than the ${formatBytes(maxBytes)} accepted; send it as ndjson (one object per line) instead`, {
    file: name,
  });

/** A JSON array of objects (or one object: one row). */
export function readJsonDocument(prepared: PreparedText, spec: FormatSpec, name: string, maxBytes: number): pl.DataFrame {
  const size = statSync(prepared.path).size;
  if (size > maxBytes) throw jsonTooLarge(name, size, maxBytes);
  let body = readFileSync(prepared.path);
  const bomBytes = body.subarray(0, 3).equals(UTF8_BOM) ? 3 : 0;
  body = body.subarray(bomBytes);
  const first = body.toString("utf8", 0, Math.min(body.length, 256)).trimStart()[0];
  if (first !== "[" && first !== "{") {
    throw badInput(`file ${name} is not a JSON array or object: it starts with ${JSON.stringify(first ?? "")}`, { file: name });
  }
  let df: pl.DataFrame;
  try {
    // A Buffer, never the path: readJSON takes a path without a .json extension for JSON text.
    df = pl.readJSON(body, { format: "json", inferSchemaLength: inferRows(spec) });
  } catch (err) {
    throw explainJsonError(err, prepared, name, bomBytes, () => (size <= MAX_LOCATE_BYTES ? documentRecords(body) : []));
  }
  if (df.width === 0) throw badInput(`file ${name} has no records (an empty JSON array)`, { file: name });
  return df;
}

/** Newline-delimited JSON: one object per line. */
export function readJsonLines(prepared: PreparedText, spec: FormatSpec, name: string): pl.DataFrame {
  let df: pl.DataFrame;
  try {
    // scanJson, not readJSON: readJSON's file-path branch for "lines" is broken in 0.25. A
    // byte-order mark (scanJson chokes on it) or glob characters in the path (scanJson would
    // expand them) send the file through a buffer instead.
    const inferSchemaLength = inferRows(spec);
    if (prepared.bom || GLOB_CHARS.test(prepared.path)) {
      const body = readFileSync(prepared.path).subarray(prepared.bom ? 3 : 0);
      df = pl.readJSON(body, { format: "lines", inferSchemaLength });
    } else {
      df = pl.scanJson(prepared.path, { inferSchemaLength }).collectSync();
    }
  } catch (err) {
    rejectBadLine(prepared.path, name);
    throw explainJsonError(err, prepared, name, 0, () => lineRecords(prepared.path));
  }
  if (df.width === 0) throw badInput(`file ${name} has no records`, { file: name });
  return df;
}

/** Throws for the first line that is not a JSON object, with its number and V8's reason. */
function rejectBadLine(file: string, name: string): void {
  for (const { text, line } of readLines(file)) {
    if (text.trim() === "") continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (parseError) {
      throw badInput(`file ${name} line ${line} is not valid JSON: ${(parseError as Error).message}`, { file: name, line });
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      throw badInput(`file ${name} line ${line} is not a JSON object; ndjson needs one object per line`, { file: name, line });
    }
  }
}

function explainJsonError(err: unknown, prepared: PreparedText, name: string, bomBytes: number, records: () => Iterable<unknown>) {
  const message = err instanceof Error ? err.message : String(err);
  if (/can only deserialize json objects/.test(message)) {
    return badInput(`file ${name} must be an array of objects (one per row) or a single object`, { file: name });
  }
  const value = parseJsonValueFailure(err);
  if (value) {
    const change = safely(() => firstTypeChange(records()));
    if (change) return typeChangeError(change, name);
    return badInput(`file ${name} has a column with mixed types (${polarsReason(err)}); ${INFER_ADVICE}`, { file: name });
  }
  const offset = jsonSyntaxOffset(err);
  if (offset !== undefined) {
    const { line, column } = lineAndColumnAt(prepared.path, offset + bomBytes);
    return badInput(`file ${name} is not valid JSON at line ${line}, column ${column}: ${syntaxReason(message)}`, { file: name, line, column });
  }
  return badInput(`file ${name} could not be read as JSON: ${polarsReason(err)}`, { file: name });
}

function typeChangeError(change: TypeChange, name: string) {
  return badInput(
    `file ${name} record ${change.row}, column '${change.column}': ${article(change.to)} where earlier records have ${plural(change.from)} (mixed types in one column)`,
    { file: name, row: change.row, column: change.column },
  );
}

/** simd-json's "ExpectedObjectKey at character 16 ('}')" → "ExpectedObjectKey, found '}'". */
function syntaxReason(message: string): string {
  const match = /^(\w+)(?:\([^)]*\))? at character \d+ \((.*)\)/.exec(message.trim());
  return match ? `${match[1]!.replace(/([a-z])([A-Z])/g, "$1 $2").toLowerCase()}, found ${match[2]}` : message.split("\n")[0]!;
}

function* documentRecords(body: Buffer): Iterable<unknown> {
  const value: unknown = JSON.parse(body.toString("utf8"));
  if (Array.isArray(value)) yield* value;
  else yield value;
}

function* lineRecords(file: string): Iterable<unknown> {
  for (const { text } of readLines(file)) if (text.trim() !== "") yield JSON.parse(text);
}

/** Lines of a file, streamed; text-scan.ts has already bounded their length. */
export function* readLines(file: string): Generator<{ text: string; line: number }> {
  const fd = openSync(file, "r");
  try {
    const chunk = Buffer.allocUnsafe(1024 * 1024);
    let carry = Buffer.alloc(0);
    let line = 0;
    let offset = 0;
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, offset);
      offset += n;
      let data = n === 0 ? carry : Buffer.concat([carry, chunk.subarray(0, n)]);
      let start = 0;
      for (let nl = data.indexOf(0x0a); nl !== -1; nl = data.indexOf(0x0a, start)) {
        const text = data.toString("utf8", start, nl);
        yield { text: line === 0 ? text.replace(/^\uFEFF/, "") : text, line: ++line };
        start = nl + 1;
      }
      data = data.subarray(start);
      if (n === 0) {
        if (data.length) yield { text: data.toString("utf8"), line: ++line };
        return;
      }
      carry = Buffer.from(data);
    }
  } finally {
    closeSync(fd);
  }
}

function safely<T>(f: () => T): T | undefined {
  try {
    return f();
  } catch {
    return undefined;
  }
}

const article = (kind: JsonKind) => ({ number: "a number", string: "a string", boolean: "a boolean", object: "an object", array: "an array" })[kind];
const plural = (kind: JsonKind) => ({ number: "numbers", string: "strings", boolean: "booleans", object: "objects", array: "arrays" })[kind];
