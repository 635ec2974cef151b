import type { ColumnSchema } from "./dataset-version.entity";
import { schemaOf } from "./profile.work";
import { badInput } from "../../platform/errors";
import { detectFormat, type FormatSpec } from "./sources/formats";
import { readTable, writeParquet } from "./sources/read-table";
import { querySql } from "./sources/sql-source";

// Runs in a task subprocess (see platform/subprocess.ts): polars calls block the thread.

export interface Converted {
  schema: ColumnSchema[];
  rowCount: number;
}

/** Reads a file in any supported format and writes it as Parquet to `out`. */
export async function fileToParquet(input: { file: string; spec: FormatSpec | null; nameHint?: string; out: string }): Promise<Converted> {
  const spec = input.spec ?? { format: await detectFormat(input.file, input.nameHint) };
  const df = readTable(input.file, spec, { displayName: input.nameHint });
  if (df.width === 0) throw badInput("the data has no columns");
  writeParquet(df, input.out);
  return { schema: schemaOf(df), rowCount: df.height };
}

/** Runs a read-only query and writes the result as Parquet to `out`. */
export async function sqlToParquet(input: { url: string; query: string; maxRows: number; timeoutMs: number; out: string }): Promise<Converted> {
  const df = await querySql(input.url, input.query, { maxRows: input.maxRows, timeoutMs: input.timeoutMs });
  if (df.width === 0) throw badInput("the query returned no columns");
  writeParquet(df, input.out);
  return { schema: schemaOf(df), rowCount: df.height };
}
