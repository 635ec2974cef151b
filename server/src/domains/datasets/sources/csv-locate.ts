import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { countLinesBefore } from "./text-scan";

/**
 * Small quote-aware walks over delimited text, run only after polars has refused a file or
 * to double-check its end: polars says "a row has more fields than the header" without
 * saying which, and happily fills a cut-off last row with nulls.
 */

const QUOTE = 0x22;
const NEWLINE = 0x0a;

export interface RecordPosition {
  /** 1-based record number, the header included. */
  record: number;
  /** 1-based line on which the record starts. */
  line: number;
  fields: number;
}

/** The first record with more than `expected` fields (RFC 4180 quoting), if any. */
export function firstRecordWithMoreFields(file: string, delimiter: string, expected: number): RecordPosition | undefined {
  const sep = delimiter.charCodeAt(0);
  const fd = openSync(file, "r");
  try {
    const chunk = Buffer.allocUnsafe(1024 * 1024);
    let inQuotes = false;
    let fields = 1;
    let record = 1;
    let line = 1;
    let recordLine = 1;
    let offset = 0;
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, offset);
      if (n === 0) break;
      for (let i = 0; i < n; i++) {
        const byte = chunk[i]!;
        // A doubled quote inside a quoted field toggles twice, which leaves the state right.
        if (byte === QUOTE) inQuotes = !inQuotes;
        else if (byte === NEWLINE) {
          line++;
          if (inQuotes) continue;
          if (fields > expected) return { record, line: recordLine, fields };
          record++;
          recordLine = line;
          fields = 1;
        } else if (byte === sep && !inQuotes) fields++;
      }
      offset += n;
    }
    return fields > expected ? { record, line: recordLine, fields } : undefined;
  } finally {
    closeSync(fd);
  }
}

export interface CutLastRecord {
  line: number;
  fields: number;
}

/**
 * A file that does not end with a line break and whose last line has fewer fields than the
 * header was most likely cut off mid-row. Only the tail is read; a last line that contains
 * quotes is not judged (its fields cannot be counted without reading from the start).
 */
export function cutLastRecord(file: string, delimiter: string, expected: number): CutLastRecord | undefined {
  const fd = openSync(file, "r");
  try {
    const size = fstatSync(fd).size;
    const tail = Buffer.alloc(Math.min(size, 64 * 1024));
    readSync(fd, tail, 0, tail.length, size - tail.length);
    if (tail.length === 0 || tail[tail.length - 1] === NEWLINE) return undefined;
    const start = tail.lastIndexOf(NEWLINE) + 1;
    if (start === 0 && tail.length < size) return undefined; // the last line is longer than the tail
    const last = tail.subarray(start).toString("utf8").replace(/\r$/, "");
    if (last.includes('"') || last.trim() === "") return undefined;
    const fields = last.split(delimiter).length;
    return fields < expected ? { line: countLinesBefore(fd, size) + 1, fields } : undefined;
  } finally {
    closeSync(fd);
  }
}

/** 1-based line of the first occurrence of `text` in the file (for a field polars quotes back). */
export function lineOfText(file: string, text: string): number | undefined {
  const needle = Buffer.from(text);
  if (needle.length === 0) return undefined;
  const fd = openSync(file, "r");
  try {
    const chunk = Buffer.allocUnsafe(1024 * 1024 + needle.length);
    let offset = 0;
    let line = 1;
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, offset);
      if (n === 0) return undefined;
      const view = chunk.subarray(0, n);
      const hit = view.indexOf(needle);
      const scanEnd = hit !== -1 ? hit : Math.max(0, n - needle.length + 1);
      for (let i = view.indexOf(NEWLINE); i !== -1 && i < scanEnd; i = view.indexOf(NEWLINE, i + 1)) line++;
      if (hit !== -1) return line;
      if (n < chunk.length) return undefined;
      offset += scanEnd; // overlap so a needle across the boundary is still found
    }
  } finally {
    closeSync(fd);
  }
}
