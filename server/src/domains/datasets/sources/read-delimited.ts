import pl from "nodejs-polars";
import { badInput } from "../../../platform/errors";
import { cutLastRecord, firstRecordWithMoreFields, lineOfText } from "./csv-locate";
import type { FormatSpec } from "./formats";
import { INFER_ADVICE, parseCsvValueFailure, polarsReason } from "./read-errors";
import type { PreparedText } from "./text-scan";

/** polars looks at 100 rows by default; 10 000 costs little and spares most type surprises. */
export const DEFAULT_CSV_INFER_ROWS = 10_000;

/** Delimiters a header line is checked for when a whole row landed in one column. */
const LIKELY_DELIMITERS = [",", ";", "\t", "|"];

interface CsvOptions {
  sep: string;
  hasHeader: boolean;
  nullValues?: string[];
  inferSchemaLength: number;
}

export function readDelimited(prepared: PreparedText, spec: FormatSpec, name: string): pl.DataFrame {
  const options: CsvOptions = {
    sep: spec.delimiter ?? (spec.format === "tsv" ? "\t" : ","),
    hasHeader: spec.header ?? true,
    inferSchemaLength: spec.inferSchemaRows ?? DEFAULT_CSV_INFER_ROWS,
    ...(spec.nullValues?.length ? { nullValues: spec.nullValues } : {}),
  };
  let df: pl.DataFrame;
  try {
    df = scan(prepared.path, options).collectSync();
  } catch (err) {
    throw explainCsvError(err, prepared, options, name, spec.format);
  }
  rejectWrongDelimiter(df, prepared, options.sep, spec.format, name);
  const cut = cutLastRecord(prepared.path, options.sep, df.width);
  if (cut) {
    throw badInput(
      `file ${name} looks truncated: its last line (${cut.line}) has ${cut.fields} of ${df.width} fields and no line break after it`,
      { file: name, line: cut.line },
    );
  }
  return df;
}

function scan(file: string, options: CsvOptions, overrides: Partial<CsvOptions> = {}) {
  // scanCSV, not readCSV: readCSV treats a path without a .csv/.tsv extension as the CSV text
  // itself (stored blobs have no extension), and glob: false keeps "[1]" in a name literal.
  return pl.scanCSV(file, { ...options, ...overrides, glob: false, raiseIfEmpty: true, encoding: "utf8" });
}

function explainCsvError(err: unknown, prepared: PreparedText, options: CsvOptions, name: string, format: string) {
  const failure = parseCsvValueFailure(err);
  if (failure?.badQuoting) {
    const line = lineOfText(prepared.path, failure.value);
    return badInput(
      `file ${name}${line ? ` line ${line}` : ""}, column '${failure.column}': a quoted field is never closed (a stray " or a file cut off mid-field)`,
      { file: name, column: failure.column, ...(line ? { line } : {}) },
    );
  }
  if (failure) {
    const row = locateValue(prepared.path, options, failure.column, failure.value);
    const where = row ? ` row ${row}` : "";
    return badInput(
      `file ${name}${where}, column '${failure.column}': ${JSON.stringify(clip(failure.value))} is not a ${failure.dtype} like the values before it (mixed types in one column); ${INFER_ADVICE}`,
      { file: name, column: failure.column, ...(row ? { row } : {}), value: clip(failure.value) },
    );
  }
  const message = err instanceof Error ? err.message : String(err);
  if (/more fields than defined/.test(message)) {
    const header = prepared.headLines[0] ?? "";
    const expected = header.split(options.sep).length;
    // A header without the delimiter, and later rows with it (a decimal comma in a ";" file).
    const other = expected === 1 ? otherDelimiter(prepared.headLines, options.sep) : undefined;
    if (other) return wrongDelimiter(other, options.sep, format, name, "rows were split in the wrong places");
    const hit = firstRecordWithMoreFields(prepared.path, options.sep, expected);
    return badInput(
      hit
        ? `file ${name} line ${hit.line} has ${hit.fields} fields but the first line has ${expected}`
        : `file ${name} has a row with more fields than the first line`,
      { file: name, ...(hit ? { line: hit.line } : {}) },
    );
  }
  return badInput(`file ${name} could not be read as ${format}: ${polarsReason(err)}`, { file: name });
}

/**
 * The 1-based data row holding `value` in `column`: the file is scanned again with every
 * column as text and only that column kept, which is cheap and respects quoting exactly.
 */
function locateValue(file: string, options: CsvOptions, column: string, value: string): number | undefined {
  try {
    const hits = scan(file, options, { inferSchemaLength: 0 })
      .select(column)
      .withRowIndex("__ouro_row")
      .filter(pl.col(column).eq(pl.lit(value)))
      .head(1)
      .collectSync();
    if (hits.height === 0) return undefined;
    return Number(hits.getColumn("__ouro_row").get(0)) + 1;
  } catch {
    return undefined;
  }
}

/**
 * One column whose header holds another likely delimiter, on every sampled line, is the
 * mark of a file read with the wrong delimiter (a European ";" csv, a tsv called .csv).
 */
function rejectWrongDelimiter(df: pl.DataFrame, prepared: PreparedText, used: string, format: string, name: string): void {
  if (df.width !== 1) return;
  const other = otherDelimiter(prepared.headLines, used);
  if (other) throw wrongDelimiter(other, used, format, name, "every row landed in one column");
}

function otherDelimiter(headLines: string[], used: string): { delimiter: string; count: number } | undefined {
  const [header = "", ...rest] = headLines;
  const sample = rest.filter((line) => line.trim() !== "");
  for (const candidate of LIKELY_DELIMITERS) {
    if (candidate === used || !header.includes(candidate)) continue;
    if (!sample.every((line) => line.includes(candidate))) continue;
    return { delimiter: candidate, count: header.split(candidate).length - 1 };
  }
  return undefined;
}

function wrongDelimiter(other: { delimiter: string; count: number }, used: string, format: string, name: string, symptom: string) {
  const { delimiter, count } = other;
  return badInput(
    `file ${name} was read as ${format} with delimiter ${show(used)} and ${symptom}, but its first line contains ${count} ${show(delimiter)}: set delimiter ${show(delimiter)}${delimiter === "\t" ? " or use format tsv" : ""}`,
    { file: name, delimiter: used, suggestedDelimiter: delimiter },
  );
}

const show = (delimiter: string) => (delimiter === "\t" ? "'\\t' (tab)" : `'${delimiter}'`);
const clip = (value: string) => (value.length > 80 ? `${value.slice(0, 80)}…` : value);
