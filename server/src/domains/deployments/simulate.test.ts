import { describe, expect, it } from "vitest";
import { checkSimulation, driftRow, maybeFlip, seeded } from "./simulate";

describe("simulated traffic", () => {
  it("shifts and scales numbers, leaves missing values and other columns alone", () => {
    const r = driftRow({ a: 1, b: 2, c: null, d: "x" }, { shift: { a: 5, c: 1 }, scale: { b: 3 } }, seeded(1));
    expect(r).toEqual({ a: 6, b: 6, c: null, d: "x" });
  });

  it("draws categories from the requested mix, reproducibly", () => {
    const draw = (seed: number) => {
      const random = seeded(seed);
      return Array.from({ length: 4000 }, () => driftRow({ w: "sun" }, { categoryMix: { w: { rain: 3, fog: 1 } } }, random).w);
    };
    const values = draw(7);
    expect(values).toEqual(draw(7));
    const rain = values.filter((v) => v === "rain").length / values.length;
    expect(rain).toBeGreaterThan(0.72);
    expect(rain).toBeLessThan(0.78);
    expect(new Set(values)).toEqual(new Set(["rain", "fog"]));
  });

  it("flips labels to another observed class at the given rate", () => {
    const random = seeded(3);
    const flipped = Array.from({ length: 2000 }, () => maybeFlip("a", ["a", "b", "c"], 0.25, random)).filter((l) => l !== "a").length / 2000;
    expect(flipped).toBeGreaterThan(0.22);
    expect(flipped).toBeLessThan(0.28);
    expect(maybeFlip("a", ["a"], 1, random)).toBe("a");
  });

  it("refuses impossible settings", () => {
    const ok = { rate: 10, batchSize: 1, labelColumn: null, labelDelayMs: 0, drift: {}, seed: 1 };
    expect(() => checkSimulation({ ...ok, rate: -1 })).toThrow(/rate/);
    expect(() => checkSimulation({ ...ok, batchSize: 0 })).toThrow(/batchSize/);
    expect(() => checkSimulation({ ...ok, drift: { shift: { a: Number.NaN } } })).toThrow(/shift/);
    expect(() => checkSimulation({ ...ok, drift: { flipLabels: 0.5 } })).toThrow(/needs labelColumn/);
    expect(checkSimulation(ok)).toEqual(ok);
  });
});
