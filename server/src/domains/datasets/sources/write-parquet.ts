import { randomUUID } from "node:crypto";
import { renameSync, rmSync } from "node:fs";
import path from "node:path";
import type pl from "nodejs-polars";

/**
 * Writes a DataFrame as Parquet so that the same data always gives the same bytes: dataset
 * versions are content-addressed, and an ingest retried after a crash must land on the same
 * blob rather than a second copy.
 *
 * What makes it deterministic: one fixed codec (zstd, its default level), and one contiguous
 * chunk per column, because polars cuts row groups and pages along chunk boundaries and the
 * same rows read in parallel may arrive in differently sized chunks. polars writes no clock
 * time into the file; its version string is in the footer, so bytes are stable for one
 * polars version (an upgrade may change them, which only costs a new blob).
 *
 * The file appears complete or not at all: it is written beside the target and renamed.
 */
export function writeParquet(df: pl.DataFrame, file: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${randomUUID()}.partial`);
  try {
    const contiguous = df.nChunks() > 1 ? df.rechunk() : df;
    contiguous.writeParquet(tmp, { compression: "zstd" });
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
