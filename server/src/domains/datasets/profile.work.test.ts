import path from "node:path";
import pl from "nodejs-polars";
import { describe, expect, it } from "vitest";
import { type ColumnProfile, profileFrame, schemaOf } from "./profile.work";

const profile = (df: pl.DataFrame): Record<string, ColumnProfile> => Object.fromEntries(profileFrame(df, schemaOf(df)).columns.map((c) => [c.name, c]));

describe("profileFrame on a crafted frame", () => {
  const cols = profile(
    pl.DataFrame({
      x: [1, 2, 3, 4, null],
      one: [7, null, null, null, null],
      none: pl.Series("none", [null, null, null, null, null], pl.Float64),
      word: ["a", "bb", null, "a", "héé"], // "héé": three characters, five bytes
      flag: [true, false, true, null, true],
    }),
  );

  it("counts non-null values, nulls and distinct non-null values (null is not a value)", () => {
    expect(cols.x).toMatchObject({ type: "Float64", count: 4, nulls: 1, nullFraction: 0.2, distinct: 4 });
    expect(cols.one).toMatchObject({ count: 1, nulls: 4, distinct: 1 });
    expect(cols.none).toMatchObject({ count: 0, nulls: 5, nullFraction: 1, distinct: 0 });
    expect(cols.word).toMatchObject({ type: "String", count: 4, nulls: 1, distinct: 3 });
    expect(cols.flag).toMatchObject({ type: "Bool", count: 4, nulls: 1, distinct: 2 });
  });

  it("numeric: min, max, mean, sample std and linearly interpolated quantiles of 1, 2, 3, 4", () => {
    const n = cols.x.numeric!;
    expect(n).toMatchObject({ min: 1, max: 4, mean: 2.5 });
    expect(n.std).toBeCloseTo(Math.sqrt(5 / 3), 12); // sample (n - 1); the population std would be sqrt(5/4)
    const want = { p1: 1.03, p5: 1.15, p25: 1.75, p50: 2.5, p75: 3.25, p95: 3.85, p99: 3.97 };
    expect(Object.keys(n.quantiles)).toEqual(Object.keys(want));
    for (const [k, v] of Object.entries(want)) expect(n.quantiles[k], k).toBeCloseTo(v, 12);
  });

  it("numeric histogram: 20 equal bins from min to max, the max in the last one, nulls left out", () => {
    const { edges, counts } = cols.x.numeric!.histogram;
    expect(edges).toHaveLength(21);
    expect(edges[0]).toBe(1);
    expect(edges[20]).toBeCloseTo(4, 12);
    const want = new Array(20).fill(0);
    for (const bin of [0, 6, 13, 19]) want[bin] = 1; // (v - 1) / 0.15, floored
    expect(counts).toEqual(want);
  });

  it("numeric: one value has no std; no values give nulls everywhere", () => {
    expect(cols.one.numeric).toMatchObject({ min: 7, max: 7, mean: 7, std: null, quantiles: { p1: 7, p50: 7, p99: 7 } });
    expect(cols.one.numeric!.histogram.counts.reduce((a, b) => a + b, 0)).toBe(1);
    expect(cols.none.numeric).toEqual({
      min: null, max: null, mean: null, std: null,
      quantiles: { p1: null, p5: null, p25: null, p50: null, p75: null, p95: null, p99: null },
      histogram: { edges: [], counts: [] },
    });
  });

  it("text: length in characters, nulls left out; categories without the null", () => {
    expect(cols.word.textLength).toEqual({ min: 1, mean: 1.75, max: 3 }); // 1, 2, 1, 3 (in bytes héé would be 5)
    expect(cols.word.categorical!.top[0]).toEqual({ value: "a", count: 2 });
    expect(cols.word.categorical!.top.map((t) => t.value).sort()).toEqual(["a", "bb", "héé"]);
    expect(cols.word.categorical!.otherCount).toBe(0);
    expect(cols.word.numeric).toBeUndefined();
  });

  it("Bool: categories true and false", () => {
    expect(cols.flag.categorical).toEqual({ top: [{ value: "true", count: 3 }, { value: "false", count: 1 }], otherCount: 0 });
  });
});

describe("categorical summary beyond the top 20", () => {
  // 25 categories: c00 26 times, c01 25 times, ... c24 twice (no ties), and three nulls.
  const values: (string | null)[] = [null, null, null];
  for (let k = 0; k < 25; k++) for (let i = 0; i < 26 - k; i++) values.push(`c${String(k).padStart(2, "0")}`);
  const [cat] = profileFrame(pl.DataFrame({ cat: values }), [{ name: "cat", type: "String", nullable: true }]).columns;

  it("keeps the 20 most frequent, in order, and counts the other rows (not the nulls) in otherCount", () => {
    expect(cat).toMatchObject({ count: 350, nulls: 3, distinct: 25 });
    expect(cat.categorical!.top).toEqual(Array.from({ length: 20 }, (_, k) => ({ value: `c${String(k).padStart(2, "0")}`, count: 26 - k })));
    expect(cat.categorical!.otherCount).toBe(6 + 5 + 4 + 3 + 2);
  });
});

describe("column names", () => {
  it("a text or Bool column named count or value is profiled like any other", () => {
    const cols = profile(pl.DataFrame({ count: ["a", "b", "a"], value: [true, true, false] }));
    expect(cols.count.categorical).toEqual({ top: [{ value: "a", count: 2 }, { value: "b", count: 1 }], otherCount: 0 });
    expect(cols.value.categorical).toEqual({ top: [{ value: "true", count: 2 }, { value: "false", count: 1 }], otherCount: 0 });
  });
});

describe("profileFrame on penguins", () => {
  const cols = profile(pl.readJSON(path.join(process.cwd(), "node_modules/vega-datasets/data/penguins.json"), { format: "json" }));

  it("Sex: 10 nulls, three distinct values (MALE, FEMALE and '.'), not four", () => {
    expect(cols.Sex).toMatchObject({ count: 334, nulls: 10, distinct: 3 });
    expect(cols.Sex.categorical).toEqual({ top: [{ value: "MALE", count: 168 }, { value: "FEMALE", count: 165 }, { value: ".", count: 1 }], otherCount: 0 });
    expect(cols.Sex.textLength).toEqual({ min: 1, mean: (168 * 4 + 165 * 6 + 1) / 334, max: 6 });
  });

  // Expected values from Python's statistics module (mean, stdev) and numpy-style linear quantiles.
  it("Body Mass (g): an Int64 column with two nulls; mean, sample std and quantiles as computed elsewhere", () => {
    const mass = cols["Body Mass (g)"];
    expect(mass).toMatchObject({ type: "Int64", count: 342, nulls: 2, distinct: 94 });
    expect(mass.numeric).toMatchObject({ min: 2700, max: 6300 });
    expect(mass.numeric!.mean).toBeCloseTo(4201.754385964912, 9);
    expect(mass.numeric!.std).toBeCloseTo(801.9545356980955, 9);
    const want = { p1: 2900, p5: 3150, p25: 3550, p50: 4050, p75: 4750, p95: 5650, p99: 5979.5 };
    for (const [k, v] of Object.entries(want)) expect(mass.numeric!.quantiles[k], k).toBeCloseTo(v, 9);
    expect(mass.numeric!.histogram.counts.reduce((a, b) => a + b, 0)).toBe(342);
  });
});
