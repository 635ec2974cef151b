import pl from "nodejs-polars";
import { describe, expect, it } from "vitest";
import { OuroError } from "../../../platform/errors";
import { classWeights, columnStats, frameToArrays, sortLabels, splitIndices, takeRows } from "./data";

const frame = () =>
  pl.DataFrame({
    a: pl.Series("a", [1, 2, 3, 4], pl.Int64),
    b: [0.5, 1.5, 2.5, 3.5],
    flag: [true, false, true, false],
    label: ["cat", "dog", "cat", "bird"],
    text: ["x", "y", "z", "w"],
  });

const badInputMessage = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(OuroError);
    expect((err as OuroError).code).toBe("BAD_USER_INPUT");
    return (err as OuroError).message;
  }
  throw new Error("expected a BAD_USER_INPUT error");
};

describe("frameToArrays", () => {
  it("builds a row-major float32 matrix (booleans as 0/1) and class indices in sorted order", () => {
    const data = frameToArrays(frame(), { task: "multiclass", features: ["a", "b", "flag"], target: "label" });
    expect(data.classes).toEqual(["bird", "cat", "dog"]);
    expect(Array.from(data.y)).toEqual([1, 2, 1, 0]);
    expect(data.width).toBe(3);
    expect(Array.from(data.x.subarray(0, 6))).toEqual([1, 0.5, 1, 2, 1.5, 0]);
  });

  it("sorts numeric labels as numbers and honours positiveClass", () => {
    expect(sortLabels(["10", "9", "100"])).toEqual(["9", "10", "100"]);
    const df = pl.DataFrame({ x: [1, 2, 3], y: ["yes", "no", "yes"] });
    expect(frameToArrays(df, { task: "binary", features: ["x"], target: "y" }).classes).toEqual(["no", "yes"]);
    const flipped = frameToArrays(df, { task: "binary", features: ["x"], target: "y", positiveClass: "no" });
    expect(flipped.classes).toEqual(["yes", "no"]);
    expect(Array.from(flipped.y)).toEqual([0, 1, 0]);
  });

  it("names text feature columns and suggests encoding them", () => {
    const message = badInputMessage(() => frameToArrays(frame(), { task: "multiclass", features: ["a", "text"], target: "label" }));
    expect(message).toContain("text (String)");
    expect(message).toMatch(/oneHot/);
  });

  it("names columns with nulls and NaN", () => {
    const df = pl.DataFrame({ a: [1, null, 3], b: [1, 2, NaN], y: [1, 2, 3] });
    expect(badInputMessage(() => frameToArrays(df, { task: "regression", features: ["a"], target: "y" }))).toMatch(/a \(1 nulls\).*fillNull/);
    expect(badInputMessage(() => frameToArrays(df, { task: "regression", features: ["b"], target: "y" }))).toMatch(/NaN.*"b"/);
  });

  it("refuses a missing column, listing what the data has", () => {
    expect(badInputMessage(() => frameToArrays(frame(), { task: "binary", features: ["a"], target: "nope" }))).toMatch(/"nope" not in the data.*"label"/);
  });

  it("refuses a text regression target and a binary target with three values", () => {
    expect(badInputMessage(() => frameToArrays(frame(), { task: "regression", features: ["a"], target: "label" }))).toMatch(/regression target must be numeric; label is String/);
    expect(badInputMessage(() => frameToArrays(frame(), { task: "binary", features: ["a"], target: "label" }))).toMatch(/exactly two values.*multiclass/);
  });

  it("refuses a label the training classes do not have", () => {
    expect(badInputMessage(() => frameToArrays(frame(), { task: "multiclass", features: ["a"], target: "label", classes: ["cat", "dog"] }))).toMatch(/not trained on: "bird"/);
  });
});

describe("splitIndices", () => {
  const data = frameToArrays(
    pl.DataFrame({ x: Array.from({ length: 100 }, (_, i) => i), y: Array.from({ length: 100 }, (_, i) => (i < 80 ? "common" : "rare")) }),
    { task: "binary", features: ["x"], target: "y" },
  );

  it("is a partition, stratified by class, and the same for the same seed", () => {
    const a = splitIndices(data, 0.25, 11);
    expect([...a.train, ...a.validation].sort((p, q) => p - q)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(a.validation.length).toBe(25);
    expect(a.validation.filter((i) => i >= 80)).toHaveLength(5);
    expect(splitIndices(data, 0.25, 11)).toEqual(a);
    expect(splitIndices(data, 0.25, 12).validation).not.toEqual(a.validation);
  });

  it("takes rows in the given order", () => {
    const taken = takeRows(data, [99, 0]);
    expect(Array.from(taken.x)).toEqual([99, 0]);
    expect(Array.from(taken.y)).toEqual([1, 0]);
  });
});

describe("classWeights and scaling", () => {
  const data = frameToArrays(pl.DataFrame({ x: [1, 2, 3, 4], y: ["a", "a", "a", "b"] }), { task: "binary", features: ["x"], target: "y" });

  it("balances as n / (k · n_class)", () => {
    expect(classWeights(data, "balanced")).toEqual({ 0: 4 / 6, 1: 2 });
  });

  it("takes given weights by label and refuses unknown labels", () => {
    expect(classWeights(data, { b: 3 })).toEqual({ 0: 1, 1: 3 });
    expect(badInputMessage(() => classWeights(data, { c: 2 }))).toMatch(/unknown classes "c"/);
  });

  it("gives a constant column std 1 instead of dividing by zero", () => {
    const stats = columnStats({ rows: 3, width: 2, x: Float32Array.from([1, 5, 2, 5, 3, 5]), y: new Float32Array(3) });
    expect(stats.mean).toEqual([2, 5]);
    expect(stats.std[0]).toBeCloseTo(Math.sqrt(2 / 3), 6);
    expect(stats.std[1]).toBe(1);
  });
});
