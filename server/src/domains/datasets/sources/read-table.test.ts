import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pl from "nodejs-polars";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FormatSpec } from "./formats";
import { readTable } from "./read-table";

const DATA = path.join(process.cwd(), "node_modules/vega-datasets/data");
const real = (name: string) => path.join(DATA, name);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "ouro-read-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a crafted file into the temp dir and returns its path. */
function craft(name: string, content: string | Buffer): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}

const types = (df: pl.DataFrame) => Object.fromEntries(df.columns.map((name, i) => [name, String(df.dtypes[i]).replace(/^DataType\((.*)\)$/, "$1")]));
const badInput = (message: RegExp) => expect.objectContaining({ code: "BAD_USER_INPUT", message: expect.stringMatching(message) });
const fails = (file: string, spec: FormatSpec, message: RegExp, opts = {}) =>
  expect(() => readTable(file, spec, opts)).toThrow(expect.objectContaining({ code: "BAD_USER_INPUT", message: expect.stringMatching(message) }));

describe("readTable reads the real vega datasets", () => {
  it("penguins.json (a JSON array of objects, with nulls)", () => {
    const df = readTable(real("penguins.json"), { format: "json" });
    expect(df.shape).toEqual({ height: 344, width: 7 });
    expect(types(df)).toMatchObject({ Species: "String", "Beak Length (mm)": "Float64", "Body Mass (g)": "Int64" });
    expect(df.row(0)).toEqual(["Adelie", "Torgersen", 39.1, 18.7, 181, 3750, "MALE"]);
    expect(df.getColumn("Body Mass (g)").nullCount()).toBe(2);
  });

  it("seattle-weather.csv", () => {
    const df = readTable(real("seattle-weather.csv"), { format: "csv" });
    expect(df.shape).toEqual({ height: 1461, width: 6 });
    expect(types(df)).toEqual({ date: "String", precipitation: "Float64", temp_max: "Float64", temp_min: "Float64", wind: "Float64", weather: "String" });
    expect(df.row(0)).toEqual(["2012-01-01", 0, 12.8, 5, 4.7, "drizzle"]);
  });

  it("unemployment.tsv", () => {
    const df = readTable(real("unemployment.tsv"), { format: "tsv" });
    expect(df.shape).toEqual({ height: 3218, width: 2 });
    expect(types(df)).toEqual({ id: "Int64", rate: "Float64" });
  });

  it("airports.csv with null values", () => {
    const plain = readTable(real("airports.csv"), { format: "csv" });
    expect(plain.shape).toEqual({ height: 3376, width: 7 });
    const withNulls = readTable(real("airports.csv"), { format: "csv", nullValues: ["NA", "Unknown"] });
    expect(withNulls.getColumn("city").nullCount()).toBeGreaterThan(plain.getColumn("city").nullCount());
  });

  it("flights-200k.arrow (Arrow IPC file)", () => {
    const df = readTable(real("flights-200k.arrow"), { format: "arrow" });
    expect(df.shape).toEqual({ height: 200_000, width: 3 });
    expect(types(df)).toEqual({ delay: "Int16", distance: "Int16", time: "Float32" });
  });

  it("an Arrow IPC stream written from the same data", () => {
    const file = craft("flights.arrows", readTable(real("flights-200k.arrow"), { format: "arrow" }).writeIPCStream());
    expect(readTable(file, { format: "arrow" }).shape).toEqual({ height: 200_000, width: 3 });
  });

  it("flights-3m.parquet", () => {
    const df = readTable(real("flights-3m.parquet"), { format: "parquet" });
    expect(df.shape).toEqual({ height: 3_000_000, width: 5 });
    expect(types(df)).toMatchObject({ date: "Datetime(us,)", origin: "String" });
  });

  it("NDJSON made from penguins equals the JSON array", () => {
    const records = JSON.parse(readFileSync(real("penguins.json"), "utf8")) as unknown[];
    const file = craft("penguins.ndjson", records.map((r) => JSON.stringify(r)).join("\n") + "\n");
    const fromLines = readTable(file, { format: "ndjson" });
    expect(fromLines.frameEqual(readTable(real("penguins.json"), { format: "json" }), true)).toBe(true);
  });

  it("files stored without an extension (content-addressed blobs) and with glob characters in the name", () => {
    const blob = craft("3f2a9c", readFileSync(real("seattle-weather.csv")));
    expect(readTable(blob, { format: "csv" }).height).toBe(1461);
    const globby = craft("weather[1].ndjson", '{"a":1}\n{"a":2}\n');
    expect(readTable(globby, { format: "ndjson" }).height).toBe(2);
    const globbyArrow = craft("flights[1].arrow", readFileSync(real("flights-200k.arrow")));
    expect(readTable(globbyArrow, { format: "arrow" }).height).toBe(200_000);
  });
});

describe("readTable options", () => {
  it("header: false names the columns column_1, column_2", () => {
    const df = readTable(craft("nohead.csv", "1,a\n2,b\n"), { format: "csv", header: false });
    expect(df.columns).toEqual(["column_1", "column_2"]);
    expect(df.height).toBe(2);
  });

  it("a ';' delimiter and null values", () => {
    const df = readTable(craft("semi-nulls.csv", "a;b\n1;NA\n-;2\n"), { format: "csv", delimiter: ";", nullValues: ["NA", "-"] });
    expect(df.toRecords()).toEqual([
      { a: 1, b: null },
      { a: null, b: 2 },
    ]);
  });

  it("a UTF-8 byte-order mark in csv, json and ndjson is not part of the first column name", () => {
    expect(readTable(craft("bom.csv", "\ufeffa,b\r\n1,2\r\n"), { format: "csv" }).columns).toEqual(["a", "b"]);
    expect(readTable(craft("bom.json", '\ufeff[{"a":1}]'), { format: "json" }).columns).toEqual(["a"]);
    expect(readTable(craft("bom.ndjson", '\ufeff{"a":1}\n{"a":2}\n'), { format: "ndjson" }).height).toBe(2);
  });

  it("a csv with a header and no rows gives typed-as-text empty columns", () => {
    const df = readTable(craft("header-only.csv", "a,b\n"), { format: "csv" });
    expect(df.shape).toEqual({ height: 0, width: 2 });
  });

  it("inferSchemaRows: 0 reads every csv column as text", () => {
    const df = readTable(real("seattle-weather.csv"), { format: "csv", inferSchemaRows: 0 });
    expect(new Set(Object.values(types(df)))).toEqual(new Set(["String"]));
  });

  it("latin1 (Windows-1252) text is decoded, € and smart quotes included, and the decoded copy is removed", () => {
    const tmpDir = mkdtempSync(path.join(dir, "latin1-tmp-"));
    const bytes = Buffer.from([...Buffer.from("name,price\ncaf"), 0xe9, ...Buffer.from(","), 0x80, ...Buffer.from("5\n"), 0x93, ...Buffer.from("x"), 0x94, ...Buffer.from(",1\n")]);
    const file = craft("latin1.csv", bytes);
    const df = readTable(file, { format: "csv", encoding: "latin1" }, { tmpDir });
    expect(df.getColumn("name").toArray()).toEqual(["café", "\u201cx\u201d"]);
    expect(df.getColumn("price").toArray()).toEqual(["€5", "1"]);
    expect(readdirSync(tmpDir)).toEqual([]);
    // Read as UTF-8, the same bytes are refused with a hint.
    fails(file, { format: "csv" }, /latin1\.csv is not valid UTF-8 \(first bad byte on line 2\); .*encoding latin1/);
  });

  it("the latin1 copy is removed when the file turns out to be bad", () => {
    const tmpDir = mkdtempSync(path.join(dir, "latin1-bad-"));
    const file = craft("latin1-bad.csv", Buffer.concat([Buffer.from("a,b\n"), Buffer.from([0xe9, 0x00, 0x41]), Buffer.from("\n")]));
    fails(file, { format: "csv", encoding: "latin1" }, /NUL byte on line 2/, { tmpDir });
    expect(readdirSync(tmpDir)).toEqual([]);
  });

  it("error messages use the display name, never the server path", () => {
    const file = craft("0123abcd", "");
    expect(() => readTable(file, { format: "csv" }, { displayName: "sales.csv" })).toThrow(/^file sales\.csv is empty$/);
    try {
      readTable(file, { format: "csv" }, { displayName: "sales.csv" });
    } catch (err) {
      expect(String((err as Error).message)).not.toContain(dir);
    }
  });

  it("refuses an invalid spec before touching the file", () => {
    const file = real("seattle-weather.csv");
    fails(file, { format: "xlsx" as FormatSpec["format"] }, /format must be one of/);
    fails(file, { format: "csv", delimiter: ";;" }, /delimiter must be a single ASCII character/);
    fails(file, { format: "csv", delimiter: "€" }, /delimiter must be a single ASCII character/);
    fails(file, { format: "parquet", encoding: "latin1" }, /encoding applies to text formats only/);
    fails(file, { format: "json", nullValues: ["NA"] }, /apply to csv and tsv only/);
    fails(file, { format: "csv", inferSchemaRows: -1 }, /inferSchemaRows must be/);
  });
});

describe("readTable refuses bad files, saying where", () => {
  it("an empty file, a blank file, a file holding only a byte-order mark", () => {
    fails(craft("empty.csv", ""), { format: "csv" }, /^file empty\.csv is empty$/);
    fails(craft("blank.csv", "  \n\r\n\t\n"), { format: "csv" }, /blank\.csv is empty/);
    fails(craft("bom-only.json", "\ufeff\n"), { format: "json" }, /bom-only\.json is empty/);
    fails(craft("empty.parquet", ""), { format: "parquet" }, /empty\.parquet is empty/);
  });

  it("a Parquet file cut short (interrupted upload)", () => {
    const file = craft("cut.parquet", readFileSync(real("flights-3m.parquet")).subarray(0, 100_000));
    fails(file, { format: "parquet" }, /cut\.parquet is truncated: a Parquet file ends with its footer and the PAR1 marker/);
  });

  it("a Parquet file damaged in the middle", () => {
    const bytes = Buffer.from(readFileSync(real("flights-3m.parquet")));
    for (let i = 1_000; i < 200_000; i++) bytes[i] = (bytes[i]! * 7 + 13) & 0xff;
    fails(craft("damaged.parquet", bytes), { format: "parquet" }, /damaged\.parquet is a damaged Parquet file: .*corruption/);
  });

  it("an Arrow file cut short", () => {
    const file = craft("cut.arrow", readFileSync(real("flights-200k.arrow")).subarray(0, 100_000));
    fails(file, { format: "arrow" }, /cut\.arrow is truncated: an Arrow IPC file ends with its footer and the ARROW1 marker/);
  });

  it("an Arrow stream cut short", () => {
    const stream = readTable(real("flights-200k.arrow"), { format: "arrow" }).writeIPCStream();
    fails(craft("cut.arrows", stream.subarray(0, 50_000)), { format: "arrow" }, /cut\.arrows is a damaged Arrow IPC stream/);
  });

  it("binary garbage, whatever format it is claimed to be", () => {
    const garbage = craft("garbage.bin", Buffer.concat([Buffer.from([1, 2, 3]), randomBytes(20_000)]));
    fails(garbage, { format: "csv" }, /garbage\.bin (looks like binary data|contains a NUL byte)/);
    fails(garbage, { format: "ndjson" }, /garbage\.bin (looks like binary data|contains a NUL byte)/);
    fails(garbage, { format: "json" }, /garbage\.bin (looks like binary data|contains a NUL byte)/);
    fails(garbage, { format: "parquet" }, /garbage\.bin is not a Parquet file: it does not start with PAR1/);
    fails(garbage, { format: "arrow" }, /garbage\.bin is not a Arrow IPC file|garbage\.bin is not a Arrow|not a Arrow IPC file/);
  });

  it("a Parquet file sent as csv, and a csv sent as Parquet", () => {
    fails(real("flights-3m.parquet"), { format: "csv" }, /flights-3m\.parquet is a parquet file, not text; read it with format parquet/);
    fails(real("seattle-weather.csv"), { format: "parquet" }, /not a Parquet file: it does not start with PAR1 \(it looks like text; choose a text format\)/);
  });

  it("a gzip-compressed csv", () => {
    fails(craft("data.csv.gz", Buffer.from([0x1f, 0x8b, 0x08, 0x00, 1, 2, 3, 4])), { format: "csv" }, /gzip-compressed; decompress it first/);
  });

  it("a NUL byte deep inside otherwise good text, with its line", () => {
    const text = "a,b\n" + "1,2\n".repeat(100_000) + "3,\u0000\n";
    fails(craft("nul.csv", text), { format: "csv" }, /nul\.csv contains a NUL byte on line 100002/);
  });

  it("invalid UTF-8 after the first megabyte, with its line", () => {
    const good = "a,b\n" + "1,2\n".repeat(400_000);
    const bytes = Buffer.concat([Buffer.from(good), Buffer.from([0x78, 0xff, 0x0a])]);
    fails(craft("bad-utf8.csv", bytes), { format: "csv" }, /bad-utf8\.csv is not valid UTF-8 \(first bad byte on line 400002\)/);
  });

  it("a multi-byte character split across the 1 MiB read boundary is fine", () => {
    const pad = "x".repeat(1024 * 1024 - 5);
    const df = readTable(craft("boundary.csv", `a\n${pad}é\nb\n`), { format: "csv" });
    expect(df.getColumn("a").toArray()).toEqual([`${pad}é`, "b"]);
  });

  it("a JSON syntax error, with line and column", () => {
    const file = craft("syntax.json", '[\n  {"a": "é"},\n  {"a": 2,,}\n]\n');
    fails(file, { format: "json" }, /syntax\.json is not valid JSON at line 3, column 11: /);
  });

  it("a JSON document cut in half", () => {
    const text = readFileSync(real("penguins.json"), "utf8");
    const file = craft("half.json", text.slice(0, Math.floor(text.length / 2)));
    fails(file, { format: "json" }, /half\.json is not valid JSON at line \d+, column \d+/);
  });

  it("JSON that is not an array of objects", () => {
    fails(craft("scalars.json", "[1, 2, 3]"), { format: "json" }, /must be an array of objects/);
    fails(craft("text.json", "hello"), { format: "json" }, /is not a JSON array or object: it starts with "h"/);
    fails(craft("empty-array.json", "[]"), { format: "json" }, /has no records \(an empty JSON array\)/);
  });

  it("an NDJSON line that is not valid JSON, with its line number", () => {
    fails(craft("bad.ndjson", '{"a":1}\n{"a":2}\n{"a":3\n{"a":4}\n'), { format: "ndjson" }, /bad\.ndjson line 3 is not valid JSON: /);
  });

  it("an NDJSON line that is an array, not an object", () => {
    fails(craft("array-line.ndjson", '{"a":1}\n[1,2]\n'), { format: "ndjson" }, /array-line\.ndjson line 2 is not a JSON object/);
  });

  it("a pretty-printed JSON array sent as ndjson", () => {
    fails(real("penguins.json"), { format: "ndjson" }, /penguins\.json line 1 is not valid JSON/);
  });

  it("mixed types in a csv column past the inference window: column and row", () => {
    const text = "a,b\n" + Array.from({ length: 200 }, (_, i) => `${i},x`).join("\n") + "\nhello,y\n";
    fails(craft("mixed.csv", text), { format: "csv", inferSchemaRows: 100 }, /mixed\.csv row 201, column 'a': "hello" is not a i64 .*inferSchemaRows/);
    // With the default window (10 000 rows) the column is simply text.
    expect(types(readTable(path.join(dir, "mixed.csv"), { format: "csv" }))).toEqual({ a: "String", b: "String" });
  });

  it("mixed types in a quoted, multi-line csv: the row is still right", () => {
    const text = 'a,b\n1,"two\nlines"\n' + Array.from({ length: 20 }, (_, i) => `${i},x`).join("\n") + "\n7.5,y\n";
    fails(craft("mixed-quoted.csv", text), { format: "csv", inferSchemaRows: 5 }, /row 22, column 'a': "7\.5" is not a i64/);
  });

  it("mixed types in an NDJSON column: column and record", () => {
    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ a: i, b: "x" }));
    const file = craft("mixed.ndjson", [...lines, '{"a": true, "b": "y"}'].join("\n") + "\n");
    fails(file, { format: "ndjson" }, /mixed\.ndjson record 51, column 'a': a boolean where earlier records have numbers/);
  });

  it("mixed types in a JSON array column with a small inference window: column and record", () => {
    const records = [...Array.from({ length: 50 }, (_, i) => ({ a: i })), { a: "x" }];
    fails(craft("mixed.json", JSON.stringify(records)), { format: "json", inferSchemaRows: 10 }, /mixed\.json record 51, column 'a': a string where earlier records have numbers/);
  });

  it("a European ';' csv read with the default ',' delimiter", () => {
    const plain = craft("semicolon-plain.csv", "name;amount;city\nAnna;3;Köln\nBen;4;Wien\n");
    fails(plain, { format: "csv" }, /semicolon-plain\.csv was read as csv with delimiter ',' and every row landed in one column, but its first line contains 2 ';': set delimiter ';'/);
    // With decimal commas the rows split on ',' while the header does not.
    const file = craft("semicolon.csv", "name;amount;city\nAnna;3,5;Köln\nBen;4,0;Wien\n");
    fails(file, { format: "csv" }, /semicolon\.csv was read as csv with delimiter ',' and rows were split in the wrong places, but its first line contains 2 ';': set delimiter ';'/);
  });

  it("a tsv read as csv, and a csv read as tsv", () => {
    fails(real("unemployment.tsv"), { format: "csv" }, /contains 1 '\\t' \(tab\): set delimiter '\\t' \(tab\) or use format tsv/);
    fails(real("seattle-weather.csv"), { format: "tsv" }, /read as tsv with delimiter '\\t' \(tab\) .* contains 5 ',': set delimiter ','/);
  });

  it("a line longer than the limit (default 10 MiB), found while scanning", () => {
    fails(craft("long.csv", `a\n${"x".repeat(2_000)}\n`), { format: "csv" }, /long\.csv line 2 is longer than 1 KiB/, { maxLineBytes: 1024 });
    fails(craft("huge-line.ndjson", `{"a":"${"x".repeat(11 * 1024 * 1024)}"}\n`), { format: "ndjson" }, /huge-line\.ndjson line 1 is longer than 10 MiB/);
  });

  it("a minified JSON document longer than the line limit is fine (JSON is bounded by size instead)", () => {
    const records = Array.from({ length: 2_000 }, (_, i) => ({ i, s: "y".repeat(10) }));
    const file = craft("minified.json", JSON.stringify(records));
    expect(readTable(file, { format: "json" }, { maxLineBytes: 1024 }).height).toBe(2_000);
    fails(file, { format: "json" }, /minified\.json is a .* JSON document, more than the 1 KiB accepted; send it as ndjson/, { maxJsonBytes: 1024 });
  });

  it("a csv row with more fields than the header, with its line", () => {
    fails(craft("ragged.csv", 'a,b\n1,2\n"x,y",3\n4,5,6\n'), { format: "csv" }, /ragged\.csv line 4 has 3 fields but the first line has 2/);
  });

  it("a quoted csv field that is never closed", () => {
    fails(craft("quote.csv", 'a,b\n1,x\n2,"abc\n3,y\n'), { format: "csv" }, /quote\.csv line 3, column 'b': a quoted field is never closed/);
  });

  it("a csv cut off in the middle of its last row", () => {
    const text = readFileSync(real("seattle-weather.csv"), "utf8");
    const cut = text.slice(0, text.lastIndexOf(",", text.length - 20));
    fails(craft("cut.csv", cut), { format: "csv" }, /cut\.csv looks truncated: its last line \(1462\) has \d of 6 fields and no line break after it/);
  });
});
