import path from "node:path";
import type pl from "nodejs-polars";
import { badInput } from "../../../platform/errors";
import type { FormatSpec } from "./formats";
import { readFileEnds, validateFormatSpec } from "./formats";
import { readArrowFile, readParquetFile } from "./read-binary";
import { readDelimited } from "./read-delimited";
import { DEFAULT_MAX_JSON_BYTES, jsonTooLarge, readJsonDocument, readJsonLines } from "./read-json";
import { DEFAULT_MAX_LINE_BYTES, prepareTextFile } from "./text-scan";

export { writeParquet } from "./write-parquet";

export interface ReadTableOptions {
  /** The name the user knows the file by (an upload's name); messages never show server paths. */
  displayName?: string;
  /** Longest line of csv/tsv/ndjson accepted, in bytes (default 10 MiB). */
  maxLineBytes?: number;
  /** Largest JSON document accepted (default 512 MiB); JSON is exempt from the line limit. */
  maxJsonBytes?: number;
  /** Where a latin1 file's UTF-8 copy is written while it is read (default: the OS temp dir). */
  tmpDir?: string;
}

/**
 * Reads one file into a DataFrame, or throws BAD_USER_INPUT saying what is wrong with it and
 * where (file, line or row, column). Synchronous like polars itself; run it in a worker.
 *
 * A minified JSON document is one long line, so the line limit applies to csv, tsv and ndjson
 * only; a JSON document is bounded by its total size instead.
 */
export function readTable(file: string, spec: FormatSpec, opts: ReadTableOptions = {}): pl.DataFrame {
  validateFormatSpec(spec);
  const name = opts.displayName ?? path.basename(file);
  const ends = readFileEnds(file, name);
  if (ends.size === 0) throw badInput(`file ${name} is empty`, { file: name });

  if (spec.format === "parquet") return readParquetFile(file, ends, name);
  if (spec.format === "arrow") return readArrowFile(file, ends, name);

  const maxJsonBytes = opts.maxJsonBytes ?? DEFAULT_MAX_JSON_BYTES;
  if (spec.format === "json" && ends.size > maxJsonBytes) {
    throw jsonTooLarge(name, ends.size, maxJsonBytes); // before the full scan reads it all
  }
  const prepared = prepareTextFile(file, {
    displayName: name,
    encoding: spec.encoding ?? "utf8",
    maxLineBytes: spec.format === "json" ? undefined : (opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES),
    ...(opts.tmpDir ? { tmpDir: opts.tmpDir } : {}),
  });
  try {
    switch (spec.format) {
      case "csv":
      case "tsv":
        return readDelimited(prepared, spec, name);
      case "json":
        return readJsonDocument(prepared, spec, name, maxJsonBytes);
      case "ndjson":
        return readJsonLines(prepared, spec, name);
    }
  } finally {
    prepared.cleanup();
  }
}
