import { readFileSync } from "node:fs";
import path from "node:path";
import pl, { type DataFrame } from "nodejs-polars";
import { describe, expect, it } from "vitest";
import { OuroError } from "../../../platform/errors";
import { applyBatch } from "./apply-batch";
import { applyRow } from "./apply-row";
import { fitAndApply, fitRecipe } from "./fit";
import type { FittedRecipe } from "./fitted";
import { toRows } from "./polars-types";
import { parseSteps } from "./steps";
import { bucketOf } from "./text";

const DATA = path.resolve("node_modules/vega-datasets/data");
const penguins = (): DataFrame => pl.DataFrame(JSON.parse(readFileSync(path.join(DATA, "penguins.json"), "utf8")));
const weather = (): DataFrame => pl.readCSV(path.join(DATA, "seattle-weather.csv"));

// A small reference table, joined as a lookup. Chinstrap has no genus size, so the
// dropNulls after the join removes its 68 rows on both paths.
const speciesInfo = pl.DataFrame({
  species: ["Adelie", "Gentoo", "Chinstrap", "Emperor"],
  genus_size: [3, 1, null, 2],
  described: ["1841-01-01", "1781-06-15", "1781-01-01", "1844-01-01"],
});
const refs = (id: string): DataFrame => {
  if (id !== "species-info") throw new Error(`unknown reference ${id}`);
  return speciesInfo.withColumns(pl.col("genus_size").cast(pl.Int64), pl.col("described").str.strptime(pl.Date, "%Y-%m-%d"));
};
const noRefs = (id: string): DataFrame => {
  throw new Error(`no reference ${id} in this test`);
};

const col = (name: string) => ({ col: name });
const lit = (value: number | string | boolean | null) => ({ lit: value });
const op = (o: string, a: unknown, b: unknown) => ({ op: o, args: [a, b] });
const fn = (f: string, a: unknown) => ({ fn: f, args: [a] });

const PENGUIN_RECIPE = [
  { op: "rename", mapping: { "Beak Length (mm)": "beak_len", "Beak Depth (mm)": "beak_depth", "Flipper Length (mm)": "flipper", "Body Mass (g)": "mass" } },
  { op: "fillNull", columns: ["beak_len", "beak_depth"], strategy: "mean" },
  { op: "fillNull", columns: ["mass"], strategy: "median" },
  { op: "fillNull", columns: ["flipper"], strategy: "constant", value: 200 },
  { op: "fillNull", columns: ["Sex"], strategy: "mode" },
  { op: "cast", column: "flipper", to: "int" },
  { op: "derive", column: "beak_ratio", expr: op("/", col("beak_len"), col("beak_depth")) },
  { op: "derive", column: "label", expr: op("+", fn("lower", col("Species")), op("+", lit(" on "), col("Island"))) },
  { op: "derive", column: "log_mass", expr: fn("log", col("mass")) },
  { op: "derive", column: "big", expr: op("and", op(">=", col("flipper"), lit(200)), fn("not", op("==", col("Sex"), lit("FEMALE")))) },
  { op: "filter", where: op("or", op(">", col("mass"), lit(2900)), fn("isNull", col("Sex"))) },
  { op: "clip", column: "beak_ratio", min: 2, max: 3 },
  { op: "join", with: "species-info", on: { left: "Species", right: "species" }, how: "left" },
  { op: "dropNulls", columns: ["genus_size"] },
  { op: "oneHot", column: "Island" },
  { op: "ordinalEncode", column: "Sex" },
  { op: "standardize", columns: ["beak_len", "beak_depth", "flipper"] },
  { op: "minMax", columns: ["mass"] },
  { op: "bucketize", column: "log_mass", boundaries: [8, 8.2, 8.4] },
  { op: "dateParts", column: "described", parts: ["year", "month", "weekday"] },
  { op: "textHash", column: "label", buckets: 16, tfidf: true },
  { op: "cast", column: "big", to: "int" },
];

const WEATHER_RECIPE = [
  { op: "cast", column: "date", to: "date" },
  { op: "dateParts", column: "date", parts: ["year", "month", "day", "weekday", "dayOfYear"] },
  { op: "derive", column: "at", expr: col("date") },
  { op: "cast", column: "at", to: "datetime" },
  { op: "dateParts", column: "at", parts: ["hour"] },
  { op: "cast", column: "at", to: "string" },
  { op: "derive", column: "temp_range", expr: op("-", col("temp_max"), col("temp_min")) },
  { op: "derive", column: "wind_text", expr: col("wind") },
  { op: "cast", column: "wind_text", to: "string" },
  {
    op: "derive",
    column: "meta",
    expr: op("+", op("+", op("+", lit('{"kind": "'), col("weather")), op("+", lit('", "m": {"wind": '), col("wind_text"))), lit("}}")),
  },
  { op: "flattenJson", column: "meta" },
  { op: "textHash", column: "weather", buckets: 8 },
  { op: "oneHot", column: "weather", maxCategories: 3, dropOriginal: false },
  { op: "filter", where: op("<", col("precipitation"), lit(40)) },
  { op: "cast", column: "precipitation", to: "string" },
  { op: "cast", column: "temp_max", to: "int" },
  { op: "derive", column: "hot", expr: op(">=", col("temp_max"), lit(25)) },
  { op: "cast", column: "hot", to: "float" },
  { op: "drop", columns: ["wind_text"] },
];

/** Every row through applyRow must equal the batch output, in order, to 1e-9 relative. */
function expectParity(input: DataFrame, fitted: FittedRecipe): number {
  const batch = toRows(applyBatch(input, fitted));
  const rows = toRows(input)
    .map((row) => applyRow(row, fitted))
    .filter((row): row is Record<string, unknown> => row !== null);
  expect(rows.length).toBe(batch.length);
  const names = fitted.outputSchema.map((f) => f.name);
  batch.forEach((expected, i) => {
    const actual = rows[i] as Record<string, unknown>;
    expect(Object.keys(actual)).toEqual(names);
    expect(Object.keys(expected)).toEqual(names);
    for (const name of names) {
      const [a, b] = [actual[name], expected[name]];
      if (typeof a === "number" && typeof b === "number" && !Object.is(a, b)) {
        const close = Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b));
        if (!close) expect.fail(`row ${i} column ${name}: row path ${a}, batch ${b}`);
      } else if (!Object.is(a, b)) {
        expect.fail(`row ${i} column ${name}: row path ${JSON.stringify(a)}, batch ${JSON.stringify(b)}`);
      }
    }
  });
  return batch.length;
}

const fit = (df: DataFrame, steps: unknown[], resolve = noRefs) => fitRecipe(df, parseSteps(steps), resolve);

function errorOf(run: () => unknown): OuroError {
  try {
    run();
  } catch (err) {
    if (err instanceof OuroError) return err;
    throw err;
  }
  throw new Error("expected an OuroError");
}

describe("batch and row paths agree on real data", () => {
  it("penguins: fills, casts, expressions, filter, clip, join, encoders, scalers, buckets, text hash", () => {
    const fitted = fit(penguins(), PENGUIN_RECIPE, refs);
    expect(fitted.rowApplicable).toBe(true);
    const kept = expectParity(penguins(), fitted);
    // 344 penguins, minus Chinstrap (68, no genus size), minus the other light ones the filter drops.
    const light = penguins().filter(pl.col("Body Mass (g)").ltEq(2900).and(pl.col("Species").neq(pl.lit("Chinstrap")))).height;
    expect(light).toBeGreaterThan(0);
    expect(kept).toBe(344 - 68 - light);
    expect(fitted.outputSchema.map((f) => f.name)).toEqual(
      expect.arrayContaining(["Island_Biscoe", "Island_Dream", "Island_Torgersen", "Island__other", "label_hash_0", "described_year"]),
    );
  });

  it("seattle weather: dates, datetimes, JSON, float formatting, one-hot with an __other column", () => {
    const fitted = fit(weather(), WEATHER_RECIPE);
    expectParity(weather(), fitted);
    const first = applyRow(toRows(weather())[0] as Record<string, unknown>, fitted);
    expect(first).toMatchObject({
      date: "2012-01-01",
      date_weekday: 7, // a Sunday
      date_dayOfYear: 1,
      at: "2012-01-01T00:00:00.000Z",
      at_hour: 0,
      precipitation: "0.0",
      meta_kind: "drizzle",
      meta_m_wind: 4.7,
      weather_rain: 0,
      weather__other: 1, // rain, sun and fog are the three most frequent
    });
    expect(first).not.toHaveProperty("weather_drizzle");
  });

  it("edge values: NaN, ±0, ±inf, unparseable text, leap days, pre-1970 fractions, non-BMP text", () => {
    const edges = pl.DataFrame({
      s: ["1.5", " 2", "1e3", "abc", null, "+3", ".5", "5.", "2012-02-29", "2012-02-30", "1969-12-31T23:59:59.9999", "2020-01-01 10:00:00Z", "TRUE", "ΣΑΣ 𝔘nicode ﬀ", "-0"],
      x: [NaN, -0, Infinity, -Infinity, 1e16, 1e-7, 0.1, 3, -2.5, null, 2 ** 60, 1e-5, 123456.789, 0.5, -1],
    });
    const copies = ["float", "int", "bool", "date", "datetime"].flatMap((to) => [
      { op: "derive", column: `s_${to}`, expr: col("s") },
      { op: "cast", column: `s_${to}`, to },
    ]);
    const numeric = ["string", "int", "bool"].flatMap((to) => [
      { op: "derive", column: `x_${to}`, expr: col("x") },
      { op: "cast", column: `x_${to}`, to },
    ]);
    const fitted = fit(edges, [
      ...copies,
      ...numeric,
      { op: "derive", column: "text", expr: op("+", fn("upper", col("s")), fn("lower", col("s"))) },
      { op: "derive", column: "len", expr: fn("length", col("s")) },
      { op: "derive", column: "cmp", expr: op("or", op(">", col("x"), lit(1)), op("==", col("x"), col("x"))) },
      { op: "derive", column: "order", expr: op("<", col("s"), lit("ΣΑ")) },
      { op: "derive", column: "ratio", expr: op("/", col("x"), lit(0)) },
      { op: "derive", column: "roots", expr: op("+", fn("sqrt", col("x")), fn("exp", fn("abs", col("x")))) },
      { op: "derive", column: "logs", expr: fn("log", col("x")) },
      { op: "derive", column: "x_clip", expr: col("x") },
      { op: "clip", column: "x_clip", min: -1, max: 1 },
      { op: "bucketize", column: "x", boundaries: [0, 1] },
      { op: "textHash", column: "s", buckets: 32 },
    ]);
    expect(expectParity(edges, fitted)).toBe(15);
    const rows = toRows(applyBatch(edges, fitted));
    expect(rows.map((r) => r.s_float)).toEqual([1.5, null, 1000, null, null, 3, 0.5, 5, null, null, null, null, null, null, -0]);
    expect(rows[10]?.s_datetime).toBe("1969-12-31T23:59:59.999Z"); // digits past milliseconds dropped
    expect(rows[9]?.s_date).toBeNull(); // 30 February
    expect(rows.slice(0, 6).map((r) => r.x_string)).toEqual(["NaN", "-0.0", "inf", "-inf", "1e+16", "1e-7"]);
  });

  it("flattens messy JSON the same way on both paths", () => {
    const train = pl.DataFrame({ j: ['{"a": 1.5, "b": "x", "n": {"c": true}}', '{"a": 2, "n": {"c": false, "d": [1]}}', '{"b": "y", "mixed": 1}', '{"mixed": "1"}'] });
    const fitted = fit(train, [{ op: "flattenJson", column: "j", prefix: "" }]);
    const step = fitted.steps[0];
    expect(step?.op === "flattenJson" && step.fields.map((f) => [f.name, f.dtype])).toEqual([["a", "float"], ["b", "string"], ["n_c", "bool"]]);
    expect(step?.op === "flattenJson" && step.skipped).toEqual(["n.d", "mixed"]);
    const messy = pl.DataFrame({
      j: ['{"a": "2.5", "b": 3, "n": {"c": "TRUE"}}', "not json", null, "[1, 2]", '{"a": null, "n": 5}', '  {"a": -0.0, "b": true}  ', '{"b": "é\\"q"}', '{"a": {"x": 1}, "b": [1,2]}'],
    });
    expectParity(messy, fitted);
    expect(toRows(applyBatch(messy, fitted))[0]).toEqual({ a: 2.5, b: "3", n_c: true });

    const structs = pl.DataFrame({ id: [1, 2], s: [{ a: 1.5, b: "x" }, { a: 2, b: "y" }] });
    const fromStruct = fit(structs, [{ op: "flattenJson", column: "s" }]);
    expectParity(structs, fromStruct);
    expect(applyRow({ id: 3, s: { a: 7, b: "z" } }, fromStruct)).toEqual({ id: 3, s_a: 7, s_b: "z" });
  });

  it("survives a JSON round trip of the fitted recipe (it is stored as jsonb)", () => {
    const fitted = fit(penguins(), PENGUIN_RECIPE, refs);
    const stored = JSON.parse(JSON.stringify(fitted)) as FittedRecipe;
    expect(stored).toEqual(fitted);
    expectParity(penguins(), stored);
  });
});

describe("defined behaviour at apply time", () => {
  const encoders = [
    { op: "oneHot", column: "Island", dropOriginal: false },
    { op: "ordinalEncode", column: "Island", unknown: 99 },
  ];

  it("maps an unseen category to __other and to the unknown code", () => {
    const fitted = fit(penguins().select("Island"), encoders);
    const out = applyRow({ Island: "Atlantis" }, fitted);
    expect(out).toEqual({ Island: 99, Island_Biscoe: 0, Island_Dream: 0, Island_Torgersen: 0, Island__other: 1 });
    const batch = toRows(applyBatch(pl.DataFrame({ Island: ["Atlantis", "Dream", null] }), fitted));
    expect(batch[0]).toEqual(out);
    expect(batch[1]).toMatchObject({ Island: 1, Island_Dream: 1, Island__other: 0 });
    expect(batch[2]).toEqual({ Island: null, Island_Biscoe: 0, Island_Dream: 0, Island_Torgersen: 0, Island__other: 0 });
  });

  it("fills a missing column whose first step is fillNull, and names missing required columns", () => {
    const fitted = fit(penguins().select("Island", "Sex"), [
      { op: "fillNull", columns: ["Sex"], strategy: "mode" },
      { op: "oneHot", column: "Island" },
    ]);
    expect(fitted.inputSchema.map((f) => [f.name, f.optional])).toEqual([["Island", false], ["Sex", true]]);
    expect(applyRow({ Island: "Dream" }, fitted)).toMatchObject({ Sex: "MALE", Island_Dream: 1 });
    expect(toRows(applyBatch(pl.DataFrame({ Island: ["Dream"] }), fitted))[0]).toMatchObject({ Sex: "MALE" });

    const rowError = errorOf(() => applyRow({ Sex: "MALE" }, fitted));
    expect(rowError.code).toBe("BAD_USER_INPUT");
    expect(rowError.message).toContain('"Island"');
    expect(errorOf(() => applyBatch(pl.DataFrame({ Sex: ["MALE"] }), fitted)).message).toContain('"Island"');
  });

  it("uses the parameters learned from training data, not the new data", () => {
    const train = pl.DataFrame({ x: [1, 2, 3, null], y: [0, 10, 20, 30], c: ["a", "a", "b", "b"] });
    const fitted = fit(train, [
      { op: "fillNull", columns: ["x"], strategy: "mean" },
      { op: "standardize", columns: ["x"] },
      { op: "minMax", columns: ["y"] },
      { op: "oneHot", column: "c" },
    ]);
    const fresh = pl.DataFrame({ x: [10, null], y: [60, -30], c: ["z", "b"] });
    const out = toRows(applyBatch(fresh, fitted));
    const std = Math.sqrt((1 + 0 + 1 + 0) / 4); // training x after the fill: 1, 2, 3, 2
    expect(out[0]?.x).toBeCloseTo((10 - 2) / std, 12);
    expect(out[1]?.x).toBe(0); // filled with the training mean 2, then standardized
    expect(out[0]?.y).toBe(2); // (60 - 0) / 30: outside [0, 1], not re-scaled to new data
    expect(out[1]?.y).toBe(-1);
    expect(out[0]).toMatchObject({ c_a: 0, c_b: 0, c__other: 1 });
    expect(applyRow({ x: 10, y: 60, c: "z" }, fitted)).toEqual(out[0]);
  });

  it("reads row values with the engine's casts (numeric strings, ISO dates)", () => {
    const fitted = fit(weather(), [{ op: "cast", column: "date", to: "date" }, { op: "dateParts", column: "date", parts: ["month"] }]);
    const row = { date: "2012-03-04", precipitation: "1.5", temp_max: 10, temp_min: 2, wind: 3, weather: "rain" };
    expect(applyRow(row, fitted)).toMatchObject({ date: "2012-03-04", date_month: 3, precipitation: 1.5 });
    expect(errorOf(() => applyRow({ ...row, wind: { speed: 3 } }, fitted)).message).toContain('column "wind"');
  });
});

describe("malformed recipes are rejected with the step index", () => {
  const message = (steps: unknown, df = penguins()) => errorOf(() => fit(df, steps as unknown[])).message;

  it("rejects an unknown op", () => {
    expect(message([{ op: "select", columns: ["Island"] }, { op: "exec", command: "rm -rf /" }])).toMatch(/^step 1: unknown op "exec"/);
  });

  it("rejects wrongly typed fields and columns of the wrong type", () => {
    expect(message([{ op: "select", columns: "Island" }])).toMatch(/^step 0 \(select\): columns:/);
    expect(message([{ op: "drop", columns: ["Sex"] }, { op: "standardize", columns: ["Island"] }])).toBe(
      'step 1 (standardize): column "Island" is string; standardize needs float or int',
    );
    expect(message([{ op: "fillNull", columns: ["Sex"], strategy: "mean" }])).toContain("step 0 (fillNull)");
    expect(message([{ op: "derive", column: "x", expr: op("+", col("Island"), lit(1)) }])).toContain(
      'step 0 (derive): expr: operator "+" cannot combine string and int',
    );
    expect(message([{ op: "oneHot", column: "Nope" }])).toContain('step 0 (oneHot): column "Nope" does not exist');
  });

  it("rejects expressions nested too deep or too large", () => {
    let deep: unknown = col("Body Mass (g)");
    for (let i = 0; i < 25; i++) deep = fn("abs", deep);
    expect(message([{ op: "derive", column: "x", expr: deep }])).toMatch(/^step 0 \(derive\): .*deeper than 20 levels/);
    let wide: unknown = lit(1);
    for (let i = 0; i < 15; i++) wide = op("+", wide, wide);
    expect(message([{ op: "derive", column: "x", expr: wide }])).toContain("more than 200 nodes");
  });

  it("rejects code in strings and unknown functions", () => {
    expect(message([{ op: "filter", where: "process.exit(1)" }])).toMatch(/^step 0 \(filter\): .*never code/);
    expect(message([{ op: "derive", column: "x", expr: fn("eval", lit("1 + 1")) }])).toContain('fn "eval" is not one of');
    expect(message([{ op: "derive", column: "x", expr: { col: "Sex", code: "alert(1)" } }])).toContain("expression has keys");
    expect(message([{ op: "select", columns: ["Sex"], then: "drop table" }])).toMatch(/^step 0 \(select\)/);
  });
});

describe("aggregations (checked by hand on a crafted frame)", () => {
  const at = (text: string) => new Date(`${text}Z`);
  const events = pl
    .DataFrame({
      user: ["a", "b", "a", "a", "b", "a"],
      t: [at("2024-01-01T00:00:00"), at("2024-01-01T00:00:00"), at("2024-01-01T12:00:00"), at("2024-01-02T06:00:00"), at("2024-01-03T00:00:00"), at("2024-01-02T00:00:00")],
      amount: [10, 5, 30, 40, null, 60],
    })
    .withColumns(pl.col("t").cast(pl.Datetime("ms")));

  it("groupBy computes every aggregate per key and is not row-applicable", () => {
    const fitted = fit(events, [
      {
        op: "groupBy",
        by: ["user"],
        aggs: ["count", "sum", "mean", "min", "max", "std", "nUnique", "first", "last"].map((f) => ({ column: "amount", fn: f })),
      },
    ]);
    expect(fitted.rowApplicable).toBe(false);
    const [a, b] = toRows(applyBatch(events, fitted));
    // user a: 10, 30, 40, 60 (in row order); mean 35, sample std sqrt(1300/3).
    expect(a).toEqual({
      user: "a", amount_count: 4, amount_sum: 140, amount_mean: 35, amount_min: 10, amount_max: 60,
      amount_std: Math.sqrt(((10 - 35) ** 2 + (30 - 35) ** 2 + (40 - 35) ** 2 + (60 - 35) ** 2) / 3),
      amount_nUnique: 4, amount_first: 10, amount_last: 60,
    });
    // user b: 5 and a null; count and nUnique skip the null.
    expect(b).toMatchObject({ user: "b", amount_count: 1, amount_sum: 5, amount_nUnique: 1, amount_std: null });
    const err = errorOf(() => applyRow({ user: "a", t: "2024-01-01T00:00:00Z", amount: 1 }, fitted));
    expect(err.message).toContain("step 0 (groupBy)");
  });

  it("rolling aggregates each entity's past window including the current row", () => {
    const fitted = fit(events, [
      { op: "rolling", entity: "user", time: "t", window: "1d", aggs: [{ column: "amount", fn: "sum" }, { column: "amount", fn: "count", as: "n" }] },
    ]);
    expect(fitted.rowApplicable).toBe(false);
    const out = toRows(applyBatch(events, fitted)).map((r) => [r.user, r.t, r.amount_sum_1d, r.n]);
    expect(out).toEqual([
      ["a", "2024-01-01T00:00:00.000Z", 10, 1],
      ["a", "2024-01-01T12:00:00.000Z", 40, 2], // 10 + 30
      ["a", "2024-01-02T00:00:00.000Z", 90, 2], // (Jan 1 00:00, Jan 2 00:00]: 30 + 60
      ["a", "2024-01-02T06:00:00.000Z", 130, 3], // 30 + 60 + 40
      ["b", "2024-01-01T00:00:00.000Z", 5, 1],
      ["b", "2024-01-03T00:00:00.000Z", 0, 0], // only its own null amount in the window
    ]);
  });
});

describe("steps checked value by value on crafted frames", () => {
  it("select keeps the listed columns in the listed order, on both paths", () => {
    const frame = pl.DataFrame({ a: [1, 2], b: ["x", "y"], c: [true, false] });
    const fitted = fit(frame, [{ op: "select", columns: ["c", "a"] }]);
    expect(applyBatch(frame, fitted).columns).toEqual(["c", "a"]);
    expect(applyRow({ a: 1, b: "x", c: true }, fitted)).toEqual({ c: true, a: 1 });
  });

  it("fillNull forward carries the last value down in batch, leaves leading nulls, and is refused for a single row", () => {
    const frame = pl.DataFrame({ t: [1, 2, 3, 4, 5], v: [null, 1.5, null, null, 4] });
    const fitted = fit(frame, [{ op: "fillNull", columns: ["v"], strategy: "forward" }]);
    expect(toRows(applyBatch(frame, fitted)).map((r) => r.v)).toEqual([null, 1.5, 1.5, 1.5, 4]);
    expect(fitted.rowApplicable).toBe(false);
    expect(errorOf(() => applyRow({ t: 1, v: null }, fitted)).message).toContain("step 0 (fillNull)");
  });

  it("textHash with tfidf gives term counts times ln((1 + n) / (1 + df)) + 1, unnormalised, on both paths", () => {
    const docs = pl.DataFrame({ text: ["red fox, red!", "Blue fox", "red"] });
    const fitted = fit(docs, [{ op: "textHash", column: "text", buckets: 16, tfidf: true, prefix: "h_" }]);
    const bucket = (token: string) => `h_${bucketOf(token, 16)}`;
    expect(new Set(["red", "fox", "blue", "purple"].map(bucket)).size).toBe(4); // no collisions among the words used
    const idf = (df: number) => Math.log(4 / (1 + df)) + 1; // 3 documents
    const rows = toRows(applyBatch(docs, fitted));
    // "red" is in 2 documents, "fox" in 2, "blue" in 1.
    expect([rows[0]![bucket("red")], rows[0]![bucket("fox")], rows[0]![bucket("blue")]]).toEqual([2 * idf(2), idf(2), 0]);
    expect(rows[1]![bucket("blue")]).toBeCloseTo(idf(1), 12);
    expect(rows[2]![bucket("red")]).toBeCloseTo(idf(2), 12);
    for (let i = 0; i < 3; i++) expect(applyRow({ text: docs.getColumn("text").get(i) }, fitted)).toEqual(rows[i]);
    // A word never seen in training lands in its bucket with that bucket's IDF (here: none seen, so df = 0).
    expect(applyRow({ text: "purple" }, fitted)![bucket("purple")]).toBeCloseTo(idf(0), 12);
    // No rows (an empty version, or a filter that keeps none): the bucket columns, empty.
    const empty = applyBatch(docs.head(0), fitted);
    expect([empty.height, empty.width]).toEqual([0, 17]);
  });
});

describe("joins keep the input's rows and order", () => {
  // Tried: left and inner joins on string, int and bool keys (bool takes polars' join, the
  // others a hash lookup), keys that miss, null keys, and lookup values of every scalar type,
  // nulls included.
  const reference = pl
    .DataFrame({
      code: ["a", "b", "c"],
      num: [10, 20, 30],
      yes: [true, false, null],
      n: [1, null, 3],
      x: [0.5, 1.5, null],
      flag: [true, null, false],
      day: ["2024-01-01", null, "2024-02-29"],
    })
    .withColumns(pl.col("num").cast(pl.Int64), pl.col("n").cast(pl.Int64), pl.col("day").str.strptime(pl.Date, "%Y-%m-%d"));
  const input = pl
    .DataFrame({ code: ["b", "zz", null, "a", "c", "a"], num: [20, 99, null, 10, 30, 10], yes: [false, null, null, true, false, true] })
    .withColumns(pl.col("num").cast(pl.Int64));
  const resolve = (id: string) => (id === "ref" ? reference : noRefs(id));

  it("matches the expected rows and the row path", () => {
    for (const key of ["code", "num", "yes"] as const) {
      for (const how of ["left", "inner"] as const) {
        const columns = ["n", "x", "flag", "day"];
        const fitted = fit(input, [{ op: "join", with: "ref", on: key, how, columns }], resolve);
        const rows = toRows(applyBatch(input, fitted));
        // By hand: each input row in order, with the reference row whose key equals its key.
        const refRows = toRows(reference);
        const expected = toRows(input).flatMap((row) => {
          const match = row[key] === null ? undefined : refRows.find((r) => r[key] === row[key]);
          if (!match && how === "inner") return [];
          return [{ ...row, ...Object.fromEntries(columns.map((c) => [c, match ? match[c] : null])) }];
        });
        expect(rows, `${key} ${how}`).toEqual(expected);
        expectParity(input, fitted);
      }
    }
  });
});

describe("fitting and applying in one pass", () => {
  it("gives the fitted recipe and exactly the frame applyBatch gives for it", () => {
    for (const [input, steps, resolve] of [[penguins, PENGUIN_RECIPE, refs], [weather, WEATHER_RECIPE, noRefs]] as const) {
      const { fitted, output } = fitAndApply(input(), parseSteps(steps), resolve);
      expect(JSON.parse(JSON.stringify(fitted))).toEqual(JSON.parse(JSON.stringify(fitRecipe(input(), parseSteps(steps), resolve))));
      const applied = applyBatch(input(), fitted);
      expect(output.columns).toEqual(applied.columns);
      expect(output.dtypes.map(String)).toEqual(applied.dtypes.map(String));
      expect(toRows(output)).toEqual(toRows(applied));
    }
  });
});

describe("one-hot columns are stored narrow (UInt8) but compute as int", () => {
  // Tried: arithmetic that would wrap around in 8 unsigned bits (0 - 1), a filter on it, a
  // join keyed on a one-hot column (the lookup's key is Int64) and a sum in a groupBy.
  const reference = pl.DataFrame({ flag: [0, 1], meaning: ["no", "yes"] }).withColumns(pl.col("flag").cast(pl.Int64));
  const steps = [
    { op: "oneHot", column: "Island", dropOriginal: false },
    { op: "derive", column: "minus_one", expr: op("-", col("Island_Dream"), lit(1)) },
    { op: "filter", where: op("<", op("-", col("Island_Biscoe"), lit(1)), lit(1)) },
    { op: "join", with: "flags", on: { left: "Island_Dream", right: "flag" }, how: "left" },
  ];
  const resolve = (id: string) => (id === "flags" ? reference : noRefs(id));

  it("agrees with the row path, never wraps around, and joins on an int key", () => {
    const fitted = fit(penguins().select("Island", "Species"), steps, resolve);
    const batch = applyBatch(penguins().select("Island", "Species"), fitted);
    expect(batch.getColumn("Island_Torgersen").dtype.variant).toBe("UInt8"); // not read by a later step
    expect(fitted.outputSchema.find((f) => f.name === "Island_Torgersen")?.dtype).toBe("int");
    const rows = toRows(batch);
    expect(new Set(rows.map((r) => r.minus_one))).toEqual(new Set([-1, 0]));
    expect(rows.every((r) => r.meaning === (r.Island_Dream === 1 ? "yes" : "no"))).toBe(true);
    expectParity(penguins().select("Island", "Species"), fitted);
    const days = weather().select("weather");
    const sums = toRows(
      applyBatch(days, fit(days, [
        { op: "derive", column: "all", expr: lit(1) },
        { op: "oneHot", column: "weather" },
        { op: "groupBy", by: ["all"], aggs: [{ column: "weather_rain", fn: "sum" }, { column: "weather_rain", fn: "max" }] },
      ])),
    );
    const rain = days.filter(pl.col("weather").eq(pl.lit("rain"))).height;
    expect(rain).toBeGreaterThan(255); // a sum in 8 bits would overflow
    expect(sums).toEqual([{ all: 1, weather_rain_sum: rain, weather_rain_max: 1 }]);
  });
});

describe("the row path stays light", () => {
  it("imports neither polars nor zod, directly or through its imports", () => {
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const source = readFileSync(file, "utf8");
      for (const [, clause, spec] of source.matchAll(/^import\s+([^;]*?)\s+from\s+"([^"]+)";/gms)) {
        if (clause?.startsWith("type ")) continue; // erased at compile time
        expect(spec, `${path.basename(file)} imports ${spec}`).not.toMatch(/nodejs-polars|^zod$/);
        if (spec?.startsWith(".")) visit(path.resolve(path.dirname(file), `${spec}.ts`));
      }
    };
    visit(path.resolve("server/src/domains/recipes/engine/apply-row.ts"));
    expect(seen.size).toBeGreaterThan(5);
  });
});
