import { isUtf8 } from "node:buffer";
import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { badInput } from "../../../platform/errors";
import type { TextEncoding } from "./formats";
import { describeForeignMagic, looksBinary, magicFormat } from "./formats";

export const DEFAULT_MAX_LINE_BYTES = 10 * 1024 * 1024;

export interface TextScanOptions {
  /** The name the user knows the file by; error messages use it, never a server path. */
  displayName: string;
  encoding: TextEncoding;
  /** Longest line accepted, in bytes of the file; undefined: no limit (one-document JSON). */
  maxLineBytes: number | undefined;
  /** Where a decoded copy goes (latin1 only); defaults to the OS temp directory. */
  tmpDir?: string;
}

export interface PreparedText {
  /** A UTF-8 file for polars: the original, or a decoded temporary copy. */
  path: string;
  /** Whether the file starts with a UTF-8 byte-order mark (polars' NDJSON reader chokes on it). */
  bom: boolean;
  /** The first lines, decoded and without line endings, for sniffing a wrong delimiter. */
  headLines: string[];
  /** Removes the temporary copy if one was made; safe to call twice. */
  cleanup(): void;
}

const CHUNK_BYTES = 1024 * 1024;
const HEAD_LINES = 20;

/**
 * One streaming pass over a text file before polars reads it. polars reads a huge line or a
 * binary file without complaint (into one giant cell, or zero rows), so every byte is looked
 * at here: emptiness, NUL bytes, UTF-8 validity and line length, each reported with the line
 * it was found on. A latin1 file is decoded to a UTF-8 temporary copy in the same pass, chunk
 * by chunk, so memory stays flat whatever the file size.
 */
export function prepareTextFile(file: string, opts: TextScanOptions): PreparedText {
  const name = opts.displayName;
  const fd = openSync(file, "r");
  let tmpDir: string | undefined;
  let out: number | undefined;
  const cleanup = () => {
    if (out !== undefined) closeSync(out);
    out = undefined;
    if (tmpDir) rmSync(tmpDir, { recursive: true, force: true });
    tmpDir = undefined;
  };
  // Line numbers are only needed for a message, so they are counted then, by a second pass
  // up to the offending byte; the happy path touches each line only through native indexOf.
  const lineAt = (byteOffset: number) => countLinesBefore(fd, byteOffset) + 1;
  try {
    if (opts.encoding === "latin1") {
      tmpDir = mkdtempSync(path.join(opts.tmpDir ?? os.tmpdir(), "ouro-latin1-"));
      out = openSync(path.join(tmpDir, "decoded.txt"), "wx");
    }
    // WHATWG "latin1" is windows-1252: ISO-8859-1 plus €, smart quotes and dashes in 0x80–0x9F,
    // which is what files called latin1 nearly always mean. One byte is one character, so
    // decoding chunk by chunk never splits a character.
    const latin1 = opts.encoding === "latin1" ? new TextDecoder("windows-1252") : undefined;
    const maxLine = opts.maxLineBytes ?? Number.POSITIVE_INFINITY;
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    let offset = 0;
    let lineStart = 0; // file offset where the current line began
    let sawContent = false;
    let utf8Carry: Buffer = Buffer.alloc(0); // an incomplete character cut at a chunk boundary
    let headText = "";
    const tooLong = () =>
      badInput(
        `file ${name} line ${lineAt(lineStart)} is longer than ${formatBytes(maxLine)}, the longest line accepted; check the format and that the file has line breaks`,
        { file: name, line: lineAt(lineStart), maxLineBytes: maxLine },
      );
    for (;;) {
      const n = readSync(fd, chunk, 0, CHUNK_BYTES, offset);
      if (n === 0) break;
      const raw = chunk.subarray(0, n);
      if (offset === 0) rejectForeignMagic(raw, name);
      const nul = raw.indexOf(0);
      if (nul !== -1) {
        const line = lineAt(offset + nul);
        throw badInput(`file ${name} contains a NUL byte on line ${line}: it is binary data, not text`, { file: name, line });
      }
      if (offset === 0 && looksBinary(raw.subarray(0, 64 * 1024))) {
        throw badInput(`file ${name} looks like binary data, not text (many control characters)`, { file: name });
      }
      let text: Buffer;
      if (latin1) {
        text = Buffer.from(latin1.decode(raw, { stream: true }), "utf8");
        writeAll(out!, text);
      } else {
        const joined = utf8Carry.length ? Buffer.concat([utf8Carry, raw]) : raw;
        const complete = completeUtf8Length(joined);
        if (!isUtf8(joined.subarray(0, complete))) {
          const line = lineAt(offset - utf8Carry.length + firstInvalidUtf8(joined.subarray(0, complete)));
          throw badInput(
            `file ${name} is not valid UTF-8 (first bad byte on line ${line}); if it was saved as Latin-1 or Windows-1252, read it with encoding latin1`,
            { file: name, line },
          );
        }
        utf8Carry = Buffer.from(joined.subarray(complete));
        text = raw;
      }
      if (!sawContent) sawContent = hasNonBlank(text);
      if (offset === 0) headText = text.subarray(0, 64 * 1024).toString("utf8");

      // Line lengths, refused as soon as one line is too long (before reading the rest of a
      // multi-gigabyte single line). A line wholly inside a chunk is shorter than the chunk, so
      // with a limit of at least a chunk only the lines crossing chunk edges need measuring.
      const firstNl = raw.indexOf(0x0a);
      if (firstNl === -1) {
        if (offset + n - lineStart > maxLine) throw tooLong();
      } else {
        if (offset + firstNl - lineStart > maxLine) throw tooLong();
        if (maxLine < CHUNK_BYTES) {
          for (let nl = firstNl; nl !== -1; nl = raw.indexOf(0x0a, nl + 1)) {
            if (offset + nl - lineStart > maxLine) throw tooLong();
            lineStart = offset + nl + 1;
          }
        }
        lineStart = offset + raw.lastIndexOf(0x0a) + 1;
        if (offset + n - lineStart > maxLine) throw tooLong();
      }
      offset += n;
    }
    if (utf8Carry.length) {
      throw badInput(`file ${name} ends in the middle of a UTF-8 character: it is truncated or not UTF-8`, { file: name });
    }
    if (!sawContent) throw badInput(`file ${name} is empty`, { file: name });
    const result: PreparedText = {
      path: tmpDir ? path.join(tmpDir, "decoded.txt") : file,
      bom: headText.startsWith("\uFEFF"),
      headLines: headText.replace(/^\uFEFF/, "").split("\n").slice(0, HEAD_LINES).map((line) => line.replace(/\r$/, "")),
      cleanup,
    };
    if (out !== undefined) closeSync(out);
    out = undefined;
    return result;
  } catch (err) {
    cleanup();
    throw err;
  } finally {
    closeSync(fd);
  }
}

/** Newlines in the file before `byteOffset` (for line numbers in messages). */
export function countLinesBefore(fileOrFd: string | number, byteOffset: number): number {
  const fd = typeof fileOrFd === "number" ? fileOrFd : openSync(fileOrFd, "r");
  try {
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    let lines = 0;
    for (let pos = 0; pos < byteOffset; ) {
      const n = readSync(fd, chunk, 0, Math.min(CHUNK_BYTES, byteOffset - pos), pos);
      if (n === 0) break;
      lines += countNewlines(chunk, n);
      pos += n;
    }
    return lines;
  } finally {
    if (typeof fileOrFd !== "number") closeSync(fd);
  }
}

function rejectForeignMagic(head: Buffer, name: string): void {
  const known = magicFormat(head);
  if (known) throw badInput(`file ${name} is a ${known} file, not text; read it with format ${known}`, { file: name });
  const foreign = describeForeignMagic(head);
  if (foreign) throw badInput(`file ${name} is ${foreign}`, { file: name });
}

/** Length of the prefix of `buf` that ends on a character boundary. */
function completeUtf8Length(buf: Buffer): number {
  // Walk back over at most 3 continuation bytes to the lead byte of the last character.
  for (let back = 1; back <= Math.min(4, buf.length); back++) {
    const byte = buf[buf.length - back]!;
    if ((byte & 0xc0) === 0x80) continue; // continuation byte
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? buf.length - back : buf.length;
  }
  return buf.length;
}

/** Offset of the first byte that breaks UTF-8; only called once a chunk is known to be bad. */
export function firstInvalidUtf8(buf: Buffer): number {
  let i = 0;
  while (i < buf.length) {
    const byte = buf[i]!;
    const len = byte < 0x80 ? 1 : byte >= 0xc2 && byte < 0xe0 ? 2 : byte >= 0xe0 && byte < 0xf0 ? 3 : byte >= 0xf0 && byte < 0xf5 ? 4 : 0;
    if (len === 0 || i + len > buf.length || !isUtf8(buf.subarray(i, i + len))) return i;
    i += len;
  }
  return buf.length;
}

export function countNewlines(buf: Buffer, end: number): number {
  let count = 0;
  let pos = buf.indexOf(0x0a);
  while (pos !== -1 && pos < end) {
    count++;
    pos = buf.indexOf(0x0a, pos + 1);
  }
  return count;
}

function hasNonBlank(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) {
    const byte = buf[i]!;
    if (byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d) continue;
    // A UTF-8 byte-order mark alone is not content either.
    if (byte === 0xef && buf[i + 1] === 0xbb && buf[i + 2] === 0xbf) {
      i += 2;
      continue;
    }
    return true;
  }
  return false;
}

function writeAll(fd: number, buf: Buffer): void {
  let written = 0;
  while (written < buf.length) written += writeSync(fd, buf, written, buf.length - written);
}

export function formatBytes(bytes: number): string {
  const units: Array<[string, number]> = [
    ["GiB", 1024 ** 3],
    ["MiB", 1024 ** 2],
    ["KiB", 1024],
  ];
  for (const [unit, size] of units) {
    if (bytes >= size) return `${Number.isInteger(bytes / size) ? bytes / size : (bytes / size).toFixed(1)} ${unit}`;
  }
  return `${bytes} bytes`;
}
