import pl from "nodejs-polars";

/**
 * Reads a whole Parquet file. Not pl.readParquet: it takes a path without a ".parquet"
 * extension for the file's *contents*, and artifact blobs are named by their hash alone.
 */
export function readParquetFile(file: string): pl.DataFrame {
  return pl.scanParquet(file).collectSync();
}
