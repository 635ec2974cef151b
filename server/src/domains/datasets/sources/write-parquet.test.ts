import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pl from "nodejs-polars";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTable } from "./read-table";
import { writeParquet } from "./write-parquet";

const DATA = path.join(process.cwd(), "node_modules/vega-datasets/data");

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "ouro-parquet-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const out = (name: string) => path.join(dir, name);

describe("writeParquet", () => {
  it("writes the same bytes for the same data, twice in a row", () => {
    const df = readTable(path.join(DATA, "seattle-weather.csv"), { format: "csv" });
    writeParquet(df, out("a.parquet"));
    writeParquet(df, out("b.parquet"));
    expect(readFileSync(out("a.parquet")).equals(readFileSync(out("b.parquet")))).toBe(true);
  });

  it("writes the same bytes whether the frame is in one chunk or many", () => {
    const df = readTable(path.join(DATA, "flights-3m.parquet"), { format: "parquet" }).rechunk();
    const pieces = df.slice(0, 700_001).vstack(df.slice(700_001, 1_000_000)).vstack(df.slice(1_700_001, 3_000_000));
    const whole = df.slice(0, 700_001).vstack(df.slice(700_001, 1_000_000)).vstack(df.slice(1_700_001, 3_000_000)).rechunk();
    expect(pieces.nChunks()).toBeGreaterThan(1);
    writeParquet(pieces, out("pieces.parquet"));
    writeParquet(whole, out("whole.parquet"));
    expect(readFileSync(out("pieces.parquet")).equals(readFileSync(out("whole.parquet")))).toBe(true);
  });

  it("writes the same bytes in another process (a retried job on another worker)", () => {
    const csv = path.join(DATA, "seattle-weather.csv");
    writeParquet(readTable(csv, { format: "csv" }), out("here.parquet"));
    const script = `
      const pl = require("nodejs-polars");
      pl.scanCSV(${JSON.stringify(csv)}, { inferSchemaLength: 10000 }).collectSync().rechunk()
        .writeParquet(${JSON.stringify(out("there.parquet"))}, { compression: "zstd" });`;
    execFileSync(process.execPath, ["-e", script], { cwd: process.cwd(), env: process.env });
    expect(readFileSync(out("here.parquet")).equals(readFileSync(out("there.parquet")))).toBe(true);
  });

  it("round-trips every row and type", () => {
    const df = readTable(path.join(DATA, "penguins.json"), { format: "json" });
    writeParquet(df, out("penguins.parquet"));
    expect(readTable(out("penguins.parquet"), { format: "parquet" }).frameEqual(df, true)).toBe(true);
  });

  it("changes the bytes when one value changes (the test can fail)", () => {
    const df = pl.DataFrame({ a: [1, 2, 3] });
    writeParquet(df, out("x.parquet"));
    writeParquet(pl.DataFrame({ a: [1, 2, 4] }), out("y.parquet"));
    expect(readFileSync(out("x.parquet")).equals(readFileSync(out("y.parquet")))).toBe(false);
  });

  it("leaves nothing behind when it cannot write, and keeps an existing file whole until the new one is complete", () => {
    const target = out("keep.parquet");
    writeFileSync(target, "old");
    const unwritable = pl.DataFrame({ a: [1] });
    expect(() => writeParquet(unwritable, path.join(dir, "no-such-dir", "x.parquet"))).toThrow();
    writeParquet(pl.DataFrame({ a: [1, 2] }), target);
    expect(readTable(target, { format: "parquet" }).height).toBe(2);
    expect(readdirSync(dir).filter((name) => name.includes(".partial"))).toEqual([]);
  });
});
