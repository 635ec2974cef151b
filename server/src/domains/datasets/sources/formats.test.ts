import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { detectFormat, sniffText } from "./formats";

const DATA = path.join(process.cwd(), "node_modules/vega-datasets/data");
const real = (name: string) => path.join(DATA, name);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "ouro-formats-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy without extension, as the content-addressed store keeps uploads. */
function blob(content: string | Buffer): string {
  const file = path.join(dir, `blob-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, content);
  return file;
}

describe("detectFormat", () => {
  it("reads the real datasets' formats from their names", () => {
    expect(detectFormat(real("seattle-weather.csv"))).toBe("csv");
    expect(detectFormat(real("unemployment.tsv"))).toBe("tsv");
    expect(detectFormat(real("penguins.json"))).toBe("json");
    expect(detectFormat(real("flights-3m.parquet"))).toBe("parquet");
    expect(detectFormat(real("flights-200k.arrow"))).toBe("arrow");
  });

  it("reads binary formats from magic bytes, whatever the name says", () => {
    expect(detectFormat(blob(readFileSync(real("flights-3m.parquet"))))).toBe("parquet");
    expect(detectFormat(blob(readFileSync(real("flights-200k.arrow"))))).toBe("arrow");
    expect(detectFormat(blob(readFileSync(real("flights-3m.parquet"))), "upload.csv")).toBe("parquet");
    expect(detectFormat(blob(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x10, 0, 0, 0, 1, 2]))), "stream").toBe("arrow");
  });

  it("uses the name hint for stored blobs without an extension", () => {
    const csv = blob(readFileSync(real("seattle-weather.csv")));
    expect(detectFormat(csv, "weather.CSV")).toBe("csv");
    expect(detectFormat(blob("a\tb\n1\t2\n"), "x.tab")).toBe("tsv");
    expect(detectFormat(blob('{"a":1}\n{"a":2}\n'), "events.jsonl")).toBe("ndjson");
  });

  it("sniffs text without a telling name", () => {
    expect(detectFormat(blob(readFileSync(real("seattle-weather.csv"))))).toBe("csv");
    expect(detectFormat(blob(readFileSync(real("unemployment.tsv"))))).toBe("tsv");
    expect(detectFormat(blob(readFileSync(real("penguins.json"))))).toBe("json");
    expect(detectFormat(blob('{"a":1}\n{"a":2}\n'))).toBe("ndjson");
    expect(detectFormat(blob('{\n  "a": 1\n}\n'))).toBe("json");
  });

  it("takes a .json file holding one object per line as ndjson", () => {
    expect(detectFormat(blob('{"a":1}\n{"a":2}\n'), "export.json")).toBe("ndjson");
  });

  it("refuses empty files, unknown binary data and named-but-wrong binary files", () => {
    expect(() => detectFormat(blob(""), "x.csv")).toThrow(/x\.csv is empty/);
    expect(() => detectFormat(blob(Buffer.from([0, 1, 2, 3, 4, 5, 0, 0, 9])), "mystery.dat")).toThrow(/looks like binary data/);
    expect(() => detectFormat(blob(Buffer.from([0x1f, 0x8b, 8, 0])), "a.csv.gz")).toThrow(/gzip-compressed/);
    expect(() => detectFormat(blob(Buffer.from([0x80, 0x04, 0x95, 0x10])), "model.pkl")).toThrow(/Python pickle, which is never loaded/);
    expect(() => detectFormat(blob("a,b\n1,2\n"), "fake.parquet")).toThrow(/named like parquet but does not start with the parquet magic bytes/);
  });
});

describe("sniffText", () => {
  it("prefers tab when the first line has more tabs than commas", () => {
    expect(sniffText("a\tb,c\td\n")).toBe("tsv");
    expect(sniffText("a,b,c\td\n")).toBe("csv");
    expect(sniffText("\ufeff")).toBe("csv");
  });
});
