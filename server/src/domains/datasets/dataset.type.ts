import { GraphQLJSONObject } from "graphql-scalars";
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import { Connection } from "../../platform/graphql/connection";

export enum DataFormatEnum {
  csv = "csv",
  tsv = "tsv",
  json = "json",
  ndjson = "ndjson",
  parquet = "parquet",
  arrow = "arrow",
}
registerEnumType(DataFormatEnum, { name: "DataFormat" });

export enum TextEncodingEnum {
  utf8 = "utf8",
  latin1 = "latin1",
}
registerEnumType(TextEncodingEnum, {
  name: "TextEncoding",
  description: "Text encodings ingestion reads: utf8 and latin1 only.",
  valuesConfig: {
    utf8: { description: "UTF-8, the default (a byte-order mark is allowed)." },
    latin1: { description: "Latin-1 as Windows-1252 writes it (ISO-8859-1 plus €, smart quotes and dashes); decoded to UTF-8 before the file is read." },
  },
});

export enum ExpectationKindEnum {
  notNull = "notNull",
  range = "range",
  allowedSet = "allowedSet",
  unique = "unique",
  regex = "regex",
  rowCount = "rowCount",
}
registerEnumType(ExpectationKindEnum, { name: "ExpectationKind" });

@ObjectType("ColumnSchema")
export class ColumnSchemaType {
  @Field(() => String) name: string;
  @Field(() => String, { description: "Polars type name: Float64, Int64, String, Bool, Date, Datetime, ..." }) type: string;
  @Field(() => Boolean) nullable: boolean;
}

@ObjectType("DataPreview")
export class DataPreviewType {
  @Field(() => [String]) columns: string[];
  @Field(() => [GraphQLJSONObject]) rows: Record<string, unknown>[];
  @Field(() => Int) offset: number;
  @Field(() => Float) totalRows: number;
}

@ObjectType("DatasetVersion")
export class DatasetVersionType {
  @Field(() => ID) id: string;
  @Field(() => ID) projectId: string;
  @Field(() => ID) datasetId: string;
  @Field(() => Int) version: number;
  @Field(() => String, { description: "SHA-256 of the stored Parquet: same content, same version." }) contentHash: string;
  @Field(() => [ColumnSchemaType]) schema: ColumnSchemaType[];
  @Field(() => Float) rowCount: number;
  @Field(() => Float) byteSize: number;
  @Field(() => GraphQLJSONObject, { description: "Where the data came from (no credentials)." }) source: Record<string, unknown>;
  @Field(() => [String]) tags: string[];
  @Field(() => [ID]) parentVersionIds: string[];
  @Field(() => ID, { nullable: true }) recipeId: string | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: "Per-column statistics and the quality report, once profiled." })
  profile: Record<string, unknown> | null;
  @Field(() => Date) createdAt: Date;
}
export const DatasetVersionConnection = Connection(DatasetVersionType, "DatasetVersion");

@ObjectType("Dataset")
export class DatasetType {
  @Field(() => ID) id: string;
  @Field(() => ID) projectId: string;
  @Field(() => String) name: string;
  @Field(() => String) description: string;
  @Field(() => Date) createdAt: Date;
}
export const DatasetConnection = Connection(DatasetType, "Dataset");

@InputType()
export class SqlSourceInput {
  @Field(() => String, { description: "A source name configured in OURO_SQL_SOURCES." }) source: string;
  @Field(() => String, { description: "One read-only SELECT." }) query: string;
}

@InputType({ description: "Exactly one of the fields." })
export class IngestSourceInput {
  @Field(() => ID, { nullable: true, description: "An id returned by POST /v1/uploads." }) uploadId?: string | null;
  @Field(() => String, { nullable: true, description: "A file under one of the server's OURO_INGEST_ROOTS." }) path?: string | null;
  @Field(() => String, { nullable: true, description: "http(s) URL; private and loopback addresses are refused by default." }) url?: string | null;
  @Field(() => SqlSourceInput, { nullable: true }) sql?: SqlSourceInput | null;
}

/** Most rows a client may ask type inference to look at; 0 (all text) covers larger needs. */
export const MAX_INFER_SCHEMA_ROWS = 10_000_000;

@InputType({ description: "How to read the file. Every field but format has a default." })
export class FormatInput {
  @Field(() => DataFormatEnum) format: DataFormatEnum;
  @Field(() => String, { nullable: true, description: "csv and tsv only: one ASCII character (default \",\" for csv, a tab for tsv)." })
  delimiter?: string | null;
  @Field(() => Boolean, { nullable: true, description: "csv and tsv only: whether the first line names the columns (default true)." })
  header?: boolean | null;
  @Field(() => [String], { nullable: true, description: "csv and tsv only: cell texts that mean a missing value, in every column (at most 100)." })
  nullValues?: string[] | null;
  @Field(() => TextEncodingEnum, { nullable: true, description: "Text formats only. Supported: utf8 (the default) and latin1 (read as Windows-1252, which includes ISO-8859-1); convert a file in any other encoding to UTF-8 first." })
  encoding?: TextEncodingEnum | null;
  @Field(() => Int, {
    nullable: true,
    description: `Rows read to guess each column's type, from 0 to ${MAX_INFER_SCHEMA_ROWS}. Raise it when a column changes type after the first rows (the error names the column and row). csv/tsv: default 10000; 0 reads every column as text. json/ndjson: default and 0 mean the whole file.`,
  })
  inferSchemaRows?: number | null;
}

@InputType()
export class IngestDatasetInput {
  @Field(() => ID) projectId: string;
  @Field(() => String, { description: "Dataset name; created on first use." }) dataset: string;
  @Field(() => IngestSourceInput) source: IngestSourceInput;
  @Field(() => FormatInput, { nullable: true, description: "Detected from the name and content if omitted." }) format?: FormatInput | null;
  @Field(() => [String], { nullable: true }) tags?: string[] | null;
  @Field(() => String, { nullable: true }) idempotencyKey?: string | null;
}

@InputType()
export class ExpectationInput {
  @Field(() => ExpectationKindEnum) kind: ExpectationKindEnum;
  @Field(() => String, { nullable: true }) column?: string | null;
  @Field(() => Float, { nullable: true }) min?: number | null;
  @Field(() => Float, { nullable: true }) max?: number | null;
  @Field(() => [String], { nullable: true, description: "allowedSet: the allowed values as text; a numeric column compares them as numbers (\"1\" allows 1.0)." })
  values?: string[] | null;
  @Field(() => String, { nullable: true, description: "regex: a pattern each non-null value (as text) must contain a match of." }) pattern?: string | null;
}
