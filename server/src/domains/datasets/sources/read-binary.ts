import { readFileSync } from "node:fs";
import pl from "nodejs-polars";
import { badInput } from "../../../platform/errors";
import type { FileEnds } from "./formats";
import { ARROW_FILE_MAGIC, ARROW_STREAM_MARKER, GLOB_CHARS, PARQUET_MAGIC, describeForeignMagic, looksBinary } from "./formats";
import { polarsReason } from "./read-errors";

export function readParquetFile(file: string, ends: FileEnds, name: string): pl.DataFrame {
  if (!ends.head.subarray(0, 4).equals(PARQUET_MAGIC)) throw notA("Parquet", "PAR1", ends, name);
  // The footer (schema and row-group index) is at the end and closes with PAR1 again: a file
  // that starts right but ends wrong was cut off, usually by an interrupted upload.
  if (ends.size < 12 || !ends.tail.subarray(-4).equals(PARQUET_MAGIC)) {
    throw badInput(`file ${name} is truncated: a Parquet file ends with its footer and the PAR1 marker, and this one does not (was the upload or download interrupted?)`, {
      file: name,
      bytes: ends.size,
    });
  }
  try {
    if (GLOB_CHARS.test(file)) return pl.readParquet(readFileSync(file));
    // No hive partitioning: a directory called "year=2024" in the path must not become a column.
    return pl.scanParquet(file, { glob: false, hivePartitioning: false }).collectSync();
  } catch (err) {
    throw badInput(`file ${name} is a damaged Parquet file: ${polarsReason(err)}`, { file: name });
  }
}

/** Arrow IPC comes as a file (ARROW1 … ARROW1) or as a stream (no magic); both are read. */
export function readArrowFile(file: string, ends: FileEnds, name: string): pl.DataFrame {
  const isFile = ends.head.subarray(0, 6).equals(ARROW_FILE_MAGIC);
  const isStream = !isFile && ends.head.length >= 8 && ends.head.subarray(0, 4).equals(ARROW_STREAM_MARKER);
  if (!isFile && !isStream) throw notA("Arrow IPC", "ARROW1", ends, name);
  if (isFile && (ends.size < 12 || !ends.tail.subarray(-6).equals(ARROW_FILE_MAGIC))) {
    throw badInput(`file ${name} is truncated: an Arrow IPC file ends with its footer and the ARROW1 marker, and this one does not (was the upload or download interrupted?)`, {
      file: name,
      bytes: ends.size,
    });
  }
  try {
    if (isStream) return pl.readIPCStream(readFileSync(file));
    if (GLOB_CHARS.test(file)) return pl.readIPC(readFileSync(file));
    return pl.scanIPC(file).collectSync();
  } catch (err) {
    throw badInput(`file ${name} is a damaged Arrow IPC ${isStream ? "stream" : "file"}: ${polarsReason(err)}`, { file: name });
  }
}

function notA(format: string, magic: string, ends: FileEnds, name: string) {
  const foreign = describeForeignMagic(ends.head);
  const hint = foreign ? `it is ${foreign}` : looksBinary(ends.head) ? "its bytes are of another kind" : "it looks like text; choose a text format";
  return badInput(`file ${name} is not a ${format} file: it does not start with ${magic} (${hint})`, { file: name, format });
}
