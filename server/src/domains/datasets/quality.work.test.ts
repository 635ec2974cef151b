import path from "node:path";
import pl from "nodejs-polars";
import { describe, expect, it } from "vitest";
import { evaluateExpectations, type Expectation, type ExpectationResult } from "./quality.work";

// Six crafted rows with one known fault per column, so every count and example is known.
const df = pl.DataFrame({
  id: pl.Series("id", [1, 2, 3, 4, 5, 6], pl.Int64),
  code: ["A1", "B2", "B2", null, "c3", null], // B2 twice; two nulls, which are not duplicates
  score: [0.5, 1.5, null, 2.5, 10, -1],
  color: ["red", "green", "red", "blue", null, "purple"],
  digits: ["1", "2", "3", "4", "5", "6"], // numbers kept as text
});

const one = (e: Expectation): ExpectationResult => {
  const report = evaluateExpectations(df, [e]);
  expect(report.results).toHaveLength(1);
  expect(report.passed).toBe(report.results[0].passed);
  return report.results[0];
};
const passes = (e: Expectation) => expect(one(e)).toEqual({ expectation: e, passed: true, failing: 0, examples: [], message: "ok" });

describe("evaluateExpectations on a crafted frame", () => {
  it("notNull: passes on a full column, fails with the null count on a column with one null", () => {
    passes({ kind: "notNull", column: "id" });
    expect(one({ kind: "notNull", column: "score" })).toMatchObject({ passed: false, failing: 1, examples: ["null"], message: "1 of 6 rows fail" });
    expect(one({ kind: "notNull", column: "code" })).toMatchObject({ passed: false, failing: 2 });
  });

  it("range: bounds are inclusive, either may be left out, nulls do not break it", () => {
    passes({ kind: "range", column: "score", min: -1, max: 10 });
    passes({ kind: "range", column: "score", min: null, max: null });
    expect(one({ kind: "range", column: "score", min: 0, max: 5 })).toMatchObject({ passed: false, failing: 2, examples: ["10.0", "-1.0"], message: "2 of 6 rows fail" });
    expect(one({ kind: "range", column: "score", min: 0 })).toMatchObject({ passed: false, failing: 1, examples: ["-1.0"] });
    expect(one({ kind: "range", column: "score", max: 2.5 })).toMatchObject({ passed: false, failing: 1, examples: ["10.0"] });
    expect(one({ kind: "range", column: "id", min: 2, max: 5 })).toMatchObject({ passed: false, failing: 2, examples: ["1", "6"] });
  });

  it("range on a text column fails and says the column is text, even when every value would fit", () => {
    // Cast to numbers, text becomes null and nothing would break the range: a silent pass.
    for (const column of ["code", "digits"]) {
      expect(one({ kind: "range", column, min: 0, max: 1e9 })).toEqual({
        expectation: { kind: "range", column, min: 0, max: 1e9 },
        passed: false,
        failing: 6,
        examples: [],
        message: `column ${column} is text (String), not numeric: range needs a numeric column`,
      });
    }
  });

  it("range on a Bool column is refused too, naming its type", () => {
    const flags = pl.DataFrame({ flag: [true, false, true] });
    const [r] = evaluateExpectations(flags, [{ kind: "range", column: "flag", min: 0, max: 1 }]).results;
    expect(r).toMatchObject({ passed: false, failing: 3, message: "column flag is Bool, not numeric: range needs a numeric column" });
  });

  it("allowedSet: nulls are allowed, an unlisted value fails; a numeric column compares as numbers", () => {
    passes({ kind: "allowedSet", column: "color", values: ["red", "green", "blue", "purple"] });
    expect(one({ kind: "allowedSet", column: "color", values: ["red", "green", "blue"] })).toMatchObject({ passed: false, failing: 1, examples: ["purple"], message: "1 of 6 rows fail" });
    expect(one({ kind: "allowedSet", column: "color", values: [] })).toMatchObject({ passed: false, failing: 5 });
    passes({ kind: "allowedSet", column: "id", values: ["1", "2", "3", "4", "5", "6"] });
    expect(one({ kind: "allowedSet", column: "id", values: ["1", "2", "3"] })).toMatchObject({ passed: false, failing: 3, examples: ["4", "5", "6"] });
    // 1.0 and 1 are the same number; text that is not a number allows nothing.
    passes({ kind: "allowedSet", column: "id", values: ["1.0", "2", "3e0", "4", "5", "6.00"] });
    passes({ kind: "allowedSet", column: "score", values: ["0.5", "1.5", "2.5", "10", "-1"] });
    expect(one({ kind: "allowedSet", column: "score", values: ["0.50", "1.5", "2.5", "10.0", "x"] })).toMatchObject({ passed: false, failing: 1, examples: ["-1.0"] });
    // Text Number() would read as a number ("" and " " as 0, "0x1" as 1) allows nothing.
    expect(one({ kind: "allowedSet", column: "id", values: ["", " ", "0x1", "2", "3", "4", "5", "6"] })).toMatchObject({ passed: false, failing: 1, examples: ["1"] });
  });

  it("allowedSet on an Int64 column compares exactly past 2^53: 9007199254740992 does not allow 9007199254740993", () => {
    const big = pl.DataFrame([pl.Series("n", ["9007199254740993", "9007199254740992", "-9223372036854775808", "9223372036854775807", "0", null]).cast(pl.Int64)]);
    const run = (values: string[]) => evaluateExpectations(big, [{ kind: "allowedSet", column: "n", values }]).results[0];
    const all = ["9007199254740993", "9007199254740992", "-9223372036854775808", "9223372036854775807", "0"];
    expect(run(all)).toMatchObject({ passed: true, failing: 0 });
    // As float64 both values are 9007199254740992.
    expect(run(["9007199254740992", "-9223372036854775808", "9223372036854775807", "0"])).toMatchObject({ passed: false, failing: 1, examples: ["9007199254740993"] });
    expect(run(["9007199254740993", "-9223372036854775808", "9223372036854775807", "0"])).toMatchObject({ passed: false, failing: 1, examples: ["9007199254740992"] });
    // Other plain ways to write the same whole numbers still allow them.
    expect(run(["9007199254740993.0", "9.007199254740992e15", "-9223372036854775808e0", "+9223372036854775807", "-0.00"])).toMatchObject({ passed: true });
    // A fraction, text and "" allow nothing (not 0, not the nearest integer).
    expect(run(["9007199254740992.5", "x", "", "9223372036854775807e400", "-9223372036854775808", "9223372036854775807"])).toMatchObject({
      passed: false,
      failing: 3,
      examples: ["9007199254740993", "9007199254740992", "0"],
    });
  });

  it("unique: every row of a repeated value fails; repeated nulls do not", () => {
    passes({ kind: "unique", column: "id" });
    passes({ kind: "unique", column: "score" }); // one null
    expect(one({ kind: "unique", column: "code" })).toMatchObject({ passed: false, failing: 2, examples: ["B2", "B2"], message: "2 of 6 rows fail" });
    expect(one({ kind: "unique", column: "color" })).toMatchObject({ passed: false, failing: 2, examples: ["red", "red"] });
  });

  it("regex: matches anywhere unless anchored; nulls are skipped; numbers are matched as text", () => {
    passes({ kind: "regex", column: "code", pattern: "^[A-Za-z][0-9]$" });
    passes({ kind: "regex", column: "code", pattern: "[0-9]" });
    expect(one({ kind: "regex", column: "code", pattern: "^[A-Z][0-9]$" })).toMatchObject({ passed: false, failing: 1, examples: ["c3"], message: "1 of 6 rows fail" });
    expect(one({ kind: "regex", column: "id", pattern: "^[1-3]$" })).toMatchObject({ passed: false, failing: 3, examples: ["4", "5", "6"] });
  });

  it("regex: a pattern polars cannot compile is reported, not thrown", () => {
    const r = one({ kind: "regex", column: "code", pattern: "(unclosed" });
    expect(r).toMatchObject({ passed: false, failing: 0, examples: [] });
    expect(r.message).toMatch(/^could not evaluate: /);
  });

  it("rowCount: inclusive bounds; a failure reports the row count and the expected range", () => {
    passes({ kind: "rowCount", min: 6, max: 6 });
    passes({ kind: "rowCount" });
    expect(one({ kind: "rowCount", min: 7 })).toEqual({ expectation: { kind: "rowCount", min: 7 }, passed: false, failing: 6, examples: [], message: "6 rows, expected 7..-" });
    expect(one({ kind: "rowCount", max: 5 })).toMatchObject({ passed: false, failing: 6, message: "6 rows, expected -..5" });
  });

  it("a column that does not exist fails every row, whatever the kind", () => {
    for (const e of [{ kind: "notNull", column: "nope" }, { kind: "unique", column: "nope" }, { kind: "range", column: "nope", min: 0 }] as Expectation[]) {
      expect(one(e)).toMatchObject({ passed: false, failing: 6, examples: [], message: "column nope does not exist" });
    }
  });

  it("examples stop at five", () => {
    expect(one({ kind: "allowedSet", column: "digits", values: [] })).toMatchObject({ failing: 6, examples: ["1", "2", "3", "4", "5"] });
  });

  it("the report passes only when every expectation does, and keeps their order", () => {
    const ok: Expectation[] = [{ kind: "notNull", column: "id" }, { kind: "rowCount", min: 1 }];
    expect(evaluateExpectations(df, ok).passed).toBe(true);
    const mixed = evaluateExpectations(df, [...ok, { kind: "unique", column: "code" }]);
    expect(mixed.passed).toBe(false);
    expect(mixed.results.map((r) => r.passed)).toEqual([true, true, false]);
  });
});

describe("evaluateExpectations on penguins", () => {
  const penguins = pl.readJSON(path.join(process.cwd(), "node_modules/vega-datasets/data/penguins.json"), { format: "json" });

  it("counts the known faults: 10 missing sexes, one '.' sex, two birds over 6 kg", () => {
    const report = evaluateExpectations(penguins, [
      { kind: "notNull", column: "Sex" },
      { kind: "allowedSet", column: "Sex", values: ["MALE", "FEMALE"] },
      { kind: "range", column: "Body Mass (g)", min: 2700, max: 6000 },
      { kind: "allowedSet", column: "Species", values: ["Adelie", "Gentoo", "Chinstrap"] },
      { kind: "rowCount", min: 344, max: 344 },
      { kind: "unique", column: "Species" },
      { kind: "regex", column: "Island", pattern: "^(Biscoe|Dream|Torgersen)$" },
      { kind: "range", column: "Island", min: 0 },
    ]);
    expect(report.passed).toBe(false);
    expect(report.results.map(({ passed, failing, examples }) => ({ passed, failing, examples }))).toEqual([
      { passed: false, failing: 10, examples: ["null", "null", "null", "null", "null"] },
      { passed: false, failing: 1, examples: ["."] },
      { passed: false, failing: 2, examples: ["6300", "6050"] },
      { passed: true, failing: 0, examples: [] },
      { passed: true, failing: 0, examples: [] },
      { passed: false, failing: 344, examples: ["Adelie", "Adelie", "Adelie", "Adelie", "Adelie"] },
      { passed: true, failing: 0, examples: [] },
      { passed: false, failing: 344, examples: [] },
    ]);
    expect(report.results[7].message).toBe("column Island is text (String), not numeric: range needs a numeric column");
  });
});
