// The lazy batch path (plan.ts) against the same steps run one at a time on materialised
// frames (applyStepBatch, which is how the batch path ran before it was one query), and the
// oneHot + groupBy folding against the unfolded steps, value for value and type for type.
import { readFileSync } from "node:fs";
import path from "node:path";
import pl, { type DataFrame } from "nodejs-polars";
import { describe, expect, it } from "vitest";
import { applyBatch, planBatch } from "./apply-batch";
import { applyStepBatch } from "./batch-steps";
import { fitAndApply, fitRecipe } from "./fit";
import type { FittedRecipe } from "./fitted";
import { conformFrame, toRows } from "./polars-types";
import { parseSteps } from "./steps";
import { compareValues } from "./values";

const DATA = path.resolve("node_modules/vega-datasets/data");
const penguins = (): DataFrame => pl.DataFrame(JSON.parse(readFileSync(path.join(DATA, "penguins.json"), "utf8")));
const weather = (): DataFrame => pl.readCSV(path.join(DATA, "seattle-weather.csv"));
const noRefs = (id: string): DataFrame => {
  throw new Error(`no reference ${id}`);
};

/** The steps one by one, each on the materialised result of the previous one. */
function stepByStep(df: DataFrame, fitted: FittedRecipe): DataFrame {
  let out = conformFrame(df, fitted.inputSchema);
  for (const step of fitted.steps) out = applyStepBatch(out, step);
  return out;
}

function expectSameFrame(actual: DataFrame, expected: DataFrame): void {
  expect(actual.columns).toEqual(expected.columns);
  expect(actual.dtypes.map(String)).toEqual(expected.dtypes.map(String));
  expect(toRows(actual)).toEqual(toRows(expected));
}

const col = (name: string) => ({ col: name });
const lit = (value: number | string) => ({ lit: value });

describe("the recipe as one lazy query", () => {
  it("gives what the steps give one at a time (weather: dates, one-hot, filters on one-hot columns, groupBy)", () => {
    const steps = parseSteps([
      { op: "cast", column: "date", to: "date" },
      { op: "dateParts", column: "date", parts: ["year", "month", "weekday"] },
      { op: "fillNull", columns: ["precipitation"], strategy: "mean" },
      { op: "oneHot", column: "weather", maxCategories: 3 },
      { op: "filter", where: { op: "==", args: [col("weather_rain"), lit(1)] } },
      { op: "derive", column: "warm", expr: { op: ">", args: [col("temp_max"), lit(20)] } },
      { op: "standardize", columns: ["wind"] },
      { op: "groupBy", by: ["date_year", "date_month"], aggs: [{ column: "wind", fn: "mean" }, { column: "warm", fn: "count" }, { column: "weather_sun", fn: "max" }] },
    ]);
    const fitted = fitRecipe(weather(), steps, noRefs);
    expectSameFrame(applyBatch(weather(), fitted), stepByStep(weather(), fitted));
    // One row per (year, month) with a rainy day: the filter ran before the groupBy.
    const rainyMonths = weather().filter(pl.col("weather").eq(pl.lit("rain"))).select(pl.col("date").str.slice(0, 7)).unique().height;
    expect(applyBatch(weather(), fitted).height).toBe(rainyMonths);
  });

  it("reads only the columns the recipe uses from a scanned file", () => {
    const file = path.join(DATA, "flights-3m.parquet");
    const fitted = fitRecipe(pl.scanParquet(file).limit(1000), parseSteps([
      { op: "dateParts", column: "date", parts: ["month"] },
      { op: "groupBy", by: ["date_month"], aggs: [{ column: "delay", fn: "mean" }] },
    ]), noRefs);
    // Fitting keeps every input column in the input schema (a missing one is still an error) ...
    expect(fitted.inputSchema.map((f) => f.name)).toEqual(["date", "delay", "distance", "origin", "destination"]);
    // ... but applying reads two of the five: polars prunes the rest from the scan.
    const plan = planBatch(pl.scanParquet(file), fitted).lf.describeOptimizedPlan();
    expect(plan).toMatch(/PROJECT 2\/5 COLUMNS|project: 2\/5/i);
  });
});

describe("oneHot folded into the groupBy that follows it", () => {
  const FOLDABLE = ["max", "min", "sum", "mean", "count", "nUnique"] as const;
  // Nulls, a category seen only at apply time, and groups where a category is in every row,
  // in some rows or in none, for text, int and bool categories.
  const train = pl.DataFrame({
    g: ["a", "a", "a", "b", "b", "c", "c", "c", "c", null],
    s: ["x", "x", "y", null, "z", "x", "y", "z", "x", "y"],
    i: [1, 1, 2, 3, null, 2, 2, 1, 1, 3],
    b: [true, true, false, null, true, false, false, true, true, null],
    v: [1.5, 2.5, 3, 4, 5, 6.25, 7, 8, 9, 10],
  }).withColumns(pl.col("i").cast(pl.Int64));
  const later = pl.concat([train, pl.DataFrame({ g: ["b", "d"], s: ["w", "w"], i: [9, 9], b: [false, false], v: [0.5, 1] }).withColumns(pl.col("i").cast(pl.Int64))]);

  for (const column of ["s", "i", "b"]) {
    for (const dropOriginal of [true, false]) {
      it(`${column}, dropOriginal ${dropOriginal}: every foldable aggregate equals the unfolded steps`, () => {
        const fittedOneHot = fitRecipe(train, parseSteps([{ op: "oneHot", column, maxCategories: 2, dropOriginal }]), noRefs);
        const made = fittedOneHot.outputSchema.map((f) => f.name).filter((n) => n.startsWith(`${column}_`));
        expect(made.length).toBe(3); // two categories and __other
        const steps = parseSteps([
          { op: "oneHot", column, maxCategories: 2, dropOriginal },
          {
            op: "groupBy",
            by: dropOriginal ? ["g"] : ["g", column],
            aggs: [{ column: "v", fn: "mean" }, { column: "v", fn: "first" }, ...made.flatMap((c) => FOLDABLE.map((fn) => ({ column: c, fn })))],
          },
        ]);
        const { fitted, output } = fitAndApply(train, steps, noRefs);
        // Fitted in one grouped pass, the oneHot learns what it learns on its own.
        expect(fitted.steps[0]).toEqual(fittedOneHot.steps[0]);
        expect(fitRecipe(train, steps, noRefs)).toEqual(fitted);
        expectSameFrame(output, stepByStep(train, fitted));
        expectSameFrame(applyBatch(later, fitted), stepByStep(later, fitted));
        // The hand check of one value: group "c" has 4 rows; for text, x is in 2 of them.
        if (column === "s" && dropOriginal) {
          const c = toRows(output).find((r) => r.g === "c") as Record<string, unknown>;
          expect([c.s_x_max, c.s_x_min, c.s_x_sum, c.s_x_mean, c.s_x_count, c.s_x_nUnique]).toEqual([1, 0, 2, 0.5, 4, 2]);
        }
      });
    }
  }

  it("learns the categories a JavaScript sort gives: most frequent first, ties by code point (beyond the BMP too), number or false-before-true", () => {
    const text = ["b", "a", "\uFFFD", "😀", "Z", "é", "a", "10", "9", "\uFF21"];
    const ints = [3, -1, 10, 2, 2, -20, 100, 7, 8, 9];
    const bools = [true, false, false, true, true, null, false, true, false, true];
    const frame = pl.DataFrame({ g: text.map((_, i) => i % 3), t: text, n: ints, b: bools }).withColumns(pl.col("n").cast(pl.Int64));
    const expected = (values: (string | number | boolean | null)[]) => {
      const counts = new Map<string | number | boolean, number>();
      for (const v of values) if (v !== null) counts.set(v, (counts.get(v) ?? 0) + 1);
      return [...counts].sort(([a, x], [b, y]) => y - x || compareValues(a, b)).map(([v]) => v);
    };
    for (const [column, values] of [["t", text], ["n", ints], ["b", bools]] as const) {
      const learned = (steps: unknown[]) => fitRecipe(frame, parseSteps(steps), noRefs).steps[0] as { categories: unknown[] };
      const alone = learned([{ op: "oneHot", column, maxCategories: 1000 }]);
      expect(alone.categories).toEqual(expected(values));
      // Fitted with the groupBy that folds it, and cut to the first few: the same order.
      const folded = learned([{ op: "oneHot", column, maxCategories: 4 }, { op: "groupBy", by: ["g"], aggs: [{ column: `${column}__other`, fn: "sum" }] }]);
      expect(folded.categories).toEqual(expected(values).slice(0, 4));
    }
  });

  it("one-hot encodes a column named count, alone and folded into a groupBy", () => {
    const frame = pl.DataFrame({ g: ["a", "a", "b"], count: ["x", "y", "x"], v: [1, 2, 3] });
    const alone = fitAndApply(frame, parseSteps([{ op: "oneHot", column: "count" }]), noRefs);
    expect(alone.fitted.steps[0]).toMatchObject({ categories: ["x", "y"] });
    expect(toRows(alone.output).map((r) => [r.count_x, r.count_y])).toEqual([[1, 0], [0, 1], [1, 0]]);
    const steps = parseSteps([{ op: "oneHot", column: "count" }, { op: "groupBy", by: ["g"], aggs: [{ column: "count_x", fn: "sum" }, { column: "v", fn: "sum" }] }]);
    const { fitted, output } = fitAndApply(frame, steps, noRefs);
    expectSameFrame(output, stepByStep(frame, fitted));
    expect(toRows(output)).toEqual([{ g: "a", count_x_sum: 1, v_sum: 3 }, { g: "b", count_x_sum: 1, v_sum: 3 }]);
  });

  it("fitted together, still names the step at fault: a misspelt one-hot column, a mean of text, a key that is not there", () => {
    const oneHot = { op: "oneHot", column: "Island", maxCategories: 2 };
    const fails = (groupBy: Record<string, unknown>) => () => fitAndApply(penguins(), parseSteps([oneHot, { op: "groupBy", ...groupBy }]), noRefs);
    expect(fails({ by: ["Species"], aggs: [{ column: "Island_Dreamm", fn: "max" }] })).toThrow(/step 1 \(groupBy\): column "Island_Dreamm" does not exist/);
    expect(fails({ by: ["Species"], aggs: [{ column: "Sex", fn: "mean" }, { column: "Island_Dream", fn: "max" }] })).toThrow(/step 1 \(groupBy\): column "Sex" is string/);
    expect(fails({ by: ["Specie"], aggs: [{ column: "Island_Dream", fn: "max" }] })).toThrow(/step 1 \(groupBy\): column "Specie" does not exist/);
    expect(() => fitAndApply(penguins(), parseSteps([{ ...oneHot, column: "Body Mass (g)" }, { op: "groupBy", by: ["Species"], aggs: [{ column: "Sex", fn: "count" }] }]), noRefs)).toThrow(/step 0 \(oneHot\): column "Body Mass \(g\)" is (int|float)/);
  });

  it("is not folded (and still equal) when an aggregate needs row order: first, std", () => {
    const steps = parseSteps([
      { op: "oneHot", column: "Island" },
      { op: "groupBy", by: ["Species"], aggs: [{ column: "Island_Dream", fn: "first" }, { column: "Island_Biscoe", fn: "std" }, { column: "Island_Dream", fn: "max" }] },
    ]);
    const fitted = fitRecipe(penguins(), steps, noRefs);
    expectSameFrame(applyBatch(penguins(), fitted), stepByStep(penguins(), fitted));
  });
});

describe("fitting with the input's recorded nullability", () => {
  it("gives the fitted recipe counting would, and falls back to counting when the record is incomplete", () => {
    const steps = parseSteps([
      { op: "fillNull", columns: ["Beak Length (mm)"], strategy: "mean" },
      { op: "oneHot", column: "Island" },
    ]);
    const counted = fitRecipe(penguins().lazy(), steps, noRefs);
    const nulls = Object.fromEntries(penguins().getColumns().map((s) => [s.name, s.nullCount() > 0]));
    expect(Object.values(nulls)).toContain(true); // penguins has missing values: the test can tell
    expect(fitRecipe(penguins().lazy(), steps, noRefs, { nullable: nulls })).toEqual(counted);
    // A record that leaves a column out is not used at all: the nulls are counted (so the wrong entry here changes nothing).
    const { Sex: _sex, ...partial } = nulls;
    expect(fitRecipe(penguins().lazy(), steps, noRefs, { nullable: { ...partial, "Beak Length (mm)": false } }).inputSchema).toEqual(counted.inputSchema);
  });
});
