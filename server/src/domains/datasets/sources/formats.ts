import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import path from "node:path";
import { badInput } from "../../../platform/errors";

export type TableFormat = "csv" | "tsv" | "json" | "ndjson" | "parquet" | "arrow";
export type TextEncoding = "utf8" | "latin1";

/** How to read one file into a table. Everything but `format` has a sensible default. */
export interface FormatSpec {
  format: TableFormat;
  /** One single-byte character; csv defaults to ",", tsv to a tab. Text formats only. */
  delimiter?: string;
  /** Whether the first csv/tsv line names the columns (default true). */
  header?: boolean;
  /** Cell texts that mean "missing", in every column (csv/tsv only). */
  nullValues?: string[];
  /** Text formats only; latin1 is decoded to UTF-8 before polars sees the file. */
  encoding?: TextEncoding;
  /**
   * Rows used to guess column types. For csv/tsv 0 reads every column as text; for json and
   * ndjson 0 means the whole file. Defaults: 10 000 for csv/tsv; the whole file for json and
   * ndjson (see DEFAULT_JSON_INFER_ROWS for why).
   */
  inferSchemaRows?: number;
}

export const TABLE_FORMATS: readonly TableFormat[] = ["csv", "tsv", "json", "ndjson", "parquet", "arrow"];
export const TEXT_FORMATS: readonly TableFormat[] = ["csv", "tsv", "json", "ndjson"];
export const isTextFormat = (format: TableFormat) => TEXT_FORMATS.includes(format);

/** Magic numbers of the formats we read, and of a few we recognise only to explain a refusal. */
export const PARQUET_MAGIC = Buffer.from("PAR1");
export const ARROW_FILE_MAGIC = Buffer.from("ARROW1");
/** An Arrow IPC *stream* has no magic; it starts with the 0xFFFFFFFF continuation marker. */
export const ARROW_STREAM_MARKER = Buffer.from([0xff, 0xff, 0xff, 0xff]);
const OTHER_MAGICS: Array<[Buffer, string]> = [
  [Buffer.from([0x1f, 0x8b]), "gzip-compressed; decompress it first"],
  [Buffer.from("PK\x03\x04", "latin1"), "a zip archive; extract the table first"],
  [Buffer.from([0x28, 0xb5, 0x2f, 0xfd]), "zstd-compressed; decompress it first"],
  [Buffer.from("BZh", "latin1"), "bzip2-compressed; decompress it first"],
  [Buffer.from([0xff, 0xfe]), "UTF-16 text; save it as UTF-8"],
  [Buffer.from([0xfe, 0xff]), "UTF-16 text; save it as UTF-8"],
  [Buffer.from("Obj\x01", "latin1"), "Avro, which is not supported"],
  [Buffer.from([0x80, 0x02]), "a Python pickle, which is never loaded"],
  [Buffer.from([0x80, 0x03]), "a Python pickle, which is never loaded"],
  [Buffer.from([0x80, 0x04]), "a Python pickle, which is never loaded"],
  [Buffer.from([0x80, 0x05]), "a Python pickle, which is never loaded"],
];

const EXTENSIONS: Record<string, TableFormat> = {
  ".csv": "csv",
  ".tsv": "tsv",
  ".tab": "tsv",
  ".json": "json",
  ".ndjson": "ndjson",
  ".jsonl": "ndjson",
  ".parquet": "parquet",
  ".pq": "parquet",
  ".arrow": "arrow",
  ".feather": "arrow",
  ".ipc": "arrow",
};

const SNIFF_BYTES = 64 * 1024;

/**
 * polars expands glob patterns in the paths it scans, so a file literally named "a[1].csv"
 * would be taken as a pattern matching "a1.csv". Readers without a way to turn globbing off
 * read such paths through a buffer instead.
 */
export const GLOB_CHARS = /[*?[\]{}]/;

/** The first and last bytes of a file, read once (enough for magic numbers and sniffing). */
export interface FileEnds {
  size: number;
  head: Buffer;
  tail: Buffer;
}

export function readFileEnds(file: string, displayName: string, headBytes = SNIFF_BYTES): FileEnds {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (err) {
    throw badInput(`file ${displayName} cannot be opened: ${(err as NodeJS.ErrnoException).code ?? "error"}`, {
      file: displayName,
    });
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw badInput(`${displayName} is not a regular file`, { file: displayName });
    const head = Buffer.alloc(Math.min(headBytes, stat.size));
    readSync(fd, head, 0, head.length, 0);
    const tail = Buffer.alloc(Math.min(8, stat.size));
    readSync(fd, tail, 0, tail.length, stat.size - tail.length);
    return { size: stat.size, head, tail };
  } finally {
    closeSync(fd);
  }
}

/** Why a file that is not one of our binary formats cannot be a table, if we can tell. */
export function describeForeignMagic(head: Buffer): string | undefined {
  for (const [magic, what] of OTHER_MAGICS) if (head.subarray(0, magic.length).equals(magic)) return what;
  return undefined;
}

/** The binary format a file's first bytes announce, if any. */
export function magicFormat(head: Buffer): "parquet" | "arrow" | undefined {
  if (head.subarray(0, 4).equals(PARQUET_MAGIC)) return "parquet";
  if (head.subarray(0, 6).equals(ARROW_FILE_MAGIC)) return "arrow";
  if (head.length >= 8 && head.subarray(0, 4).equals(ARROW_STREAM_MARKER)) return "arrow";
  return undefined;
}

/**
 * Text has no NUL bytes and few control characters; random or foreign binary data has many.
 * Only the sample is judged, so this is a cheap first look; the full scan in text-scan.ts
 * still checks every byte for NUL and UTF-8 validity.
 */
export function looksBinary(sample: Buffer): boolean {
  if (sample.includes(0)) return true;
  let control = 0;
  for (const byte of sample) if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d && byte !== 0x0c) control++;
  return sample.length > 0 && control / sample.length > 0.01;
}

/**
 * The format of a file, from its magic bytes first (they cannot lie about Parquet or Arrow),
 * then the extension of `nameHint` (the user's file name; stored blobs have none), then a
 * look at the text. Throws a clear error when the file is empty or binary of an unknown kind.
 */
export function detectFormat(file: string, nameHint?: string): TableFormat {
  const displayName = path.basename(nameHint ?? file);
  const ends = readFileEnds(file, displayName);
  if (ends.size === 0) throw badInput(`file ${displayName} is empty`, { file: displayName });
  const byMagic = magicFormat(ends.head);
  if (byMagic) return byMagic;
  const foreign = describeForeignMagic(ends.head);
  if (foreign) throw badInput(`file ${displayName} is ${foreign}`, { file: displayName });

  const byExtension = EXTENSIONS[path.extname(nameHint ?? file).toLowerCase()];
  if (byExtension === "parquet" || byExtension === "arrow") {
    throw badInput(
      `file ${displayName} is named like ${byExtension} but does not start with the ${byExtension} magic bytes; it is not a ${byExtension} file`,
      { file: displayName },
    );
  }
  if (looksBinary(ends.head)) {
    throw badInput(`file ${displayName} looks like binary data, not a table format we know (csv, tsv, json, ndjson, parquet, arrow)`, {
      file: displayName,
    });
  }
  const text = ends.head.toString("utf8").replace(/^\uFEFF/, "");
  const sniffed = sniffText(text);
  if (byExtension === "json" && sniffed === "ndjson") return "ndjson"; // ".json" exports are often one object per line
  if (byExtension) return byExtension;
  return sniffed;
}

/** Text without a telling extension: JSON by its first character, else delimited text. */
export function sniffText(text: string): TableFormat {
  const trimmed = text.trimStart();
  if (trimmed.startsWith("[")) return "json";
  if (trimmed.startsWith("{")) {
    const lines = trimmed.split("\n").filter((line) => line.trim() !== "");
    // One complete object on the first line and another object after it: newline-delimited.
    if (lines.length >= 2 && isJsonObject(lines[0]!) && lines[1]!.trimStart().startsWith("{")) return "ndjson";
    return "json";
  }
  const firstLine = trimmed.split("\n", 1)[0] ?? "";
  const tabs = firstLine.split("\t").length - 1;
  const commas = firstLine.split(",").length - 1;
  return tabs > commas ? "tsv" : "csv";
}

function isJsonObject(line: string): boolean {
  try {
    const value: unknown = JSON.parse(line);
    return typeof value === "object" && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

/** Checks a spec a client sent before any file is touched. */
export function validateFormatSpec(spec: FormatSpec): void {
  if (!TABLE_FORMATS.includes(spec.format)) {
    throw badInput(`format must be one of ${TABLE_FORMATS.join(", ")}`, { format: spec.format });
  }
  const textOnly = isTextFormat(spec.format);
  if (spec.delimiter !== undefined) {
    if (spec.format !== "csv" && spec.format !== "tsv") throw badInput(`delimiter applies to csv and tsv only, not ${spec.format}`);
    // polars takes the separator as one byte; a multi-byte character would be cut in half.
    if (Buffer.byteLength(spec.delimiter) !== 1 || spec.delimiter === "\n" || spec.delimiter === "\r" || spec.delimiter === '"') {
      throw badInput("delimiter must be a single ASCII character other than a quote or a line break", {
        delimiter: spec.delimiter,
      });
    }
  }
  if (spec.encoding !== undefined && spec.encoding !== "utf8" && spec.encoding !== "latin1") {
    throw badInput("encoding must be utf8 or latin1; convert a file in any other encoding to UTF-8 first", { encoding: spec.encoding });
  }
  if (!textOnly && spec.encoding === "latin1") throw badInput(`encoding applies to text formats only, not ${spec.format}`);
  const delimited = spec.format === "csv" || spec.format === "tsv";
  if (!delimited && (spec.header !== undefined || spec.nullValues !== undefined)) {
    throw badInput(`header and nullValues apply to csv and tsv only, not ${spec.format}`);
  }
  if (spec.nullValues && (!Array.isArray(spec.nullValues) || spec.nullValues.some((v) => typeof v !== "string"))) {
    throw badInput("nullValues must be a list of strings");
  }
  if (spec.inferSchemaRows !== undefined && (!Number.isInteger(spec.inferSchemaRows) || spec.inferSchemaRows < 0)) {
    throw badInput("inferSchemaRows must be a whole number ≥ 0", { inferSchemaRows: spec.inferSchemaRows });
  }
}
