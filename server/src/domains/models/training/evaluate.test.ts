import { describe, expect, it } from "vitest";
import { OuroError } from "../../../platform/errors";
import { binaryRanking, MAX_CURVE_POINTS, rocAuc } from "./curves";
import { evaluate, histogram, type ClassificationEvaluation, type RegressionEvaluation } from "./evaluate";
import { seededRandom } from "./random";

const classification = (e: ReturnType<typeof evaluate>) => e as ClassificationEvaluation;
const regression = (e: ReturnType<typeof evaluate>) => e as RegressionEvaluation;

describe("ROC AUC", () => {
  const truth = [true, true, false, false];
  it("is 1 for a perfect ranking, 0 for an inverted one, ½ when all scores tie", () => {
    expect(rocAuc(truth, [0.9, 0.8, 0.2, 0.1])).toBe(1);
    expect(rocAuc(truth, [0.1, 0.2, 0.8, 0.9])).toBe(0);
    expect(rocAuc(truth, [0.5, 0.5, 0.5, 0.5])).toBe(0.5);
  });

  it("counts a tie between a positive and a negative as one half", () => {
    // Pairs (pos, neg): (0.8,0.4)=1 (0.8,0.2)=1 (0.4,0.4)=½ (0.4,0.2)=1 → 3.5 / 4
    expect(rocAuc([true, false, true, false], [0.8, 0.4, 0.4, 0.2])).toBe(0.875);
  });

  it("is about ½ for a random ranking and undefined with one class", () => {
    const random = seededRandom(7);
    const labels = Array.from({ length: 20_000 }, () => random() < 0.3);
    const scores = labels.map(() => random());
    expect(rocAuc(labels, scores)).toBeCloseTo(0.5, 1);
    expect(rocAuc([true, true], [0.1, 0.2])).toBeNull();
  });

  it("thins long curves to at most 200 points, keeping both ends", () => {
    const random = seededRandom(3);
    const labels = Array.from({ length: 5000 }, (_, i) => i % 3 === 0);
    const ranking = binaryRanking(labels, labels.map(() => random()));
    expect(ranking.roc.length).toBe(MAX_CURVE_POINTS);
    expect(ranking.roc[0]).toEqual({ fpr: 0, tpr: 0, threshold: null });
    expect(ranking.roc[ranking.roc.length - 1]).toMatchObject({ fpr: 1, tpr: 1 });
    expect(ranking.pr.length).toBe(MAX_CURVE_POINTS);
  });
});

describe("evaluate: binary", () => {
  // Truth A A B B B; p(B) .1 .6 .7 .4 .9 → predicted A B B A B (threshold ½).
  const yTrue = ["A", "A", "B", "B", "B"];
  const pB = [0.1, 0.6, 0.7, 0.4, 0.9];
  const e = classification(evaluate("binary", yTrue, pB, ["A", "B"]));

  it("computes accuracy, per-class and macro precision/recall/F1 and the confusion matrix", () => {
    expect(e.confusionMatrix).toEqual([
      [1, 1],
      [1, 2],
    ]);
    expect(e.accuracy).toBeCloseTo(3 / 5, 12);
    expect(e.perClass[0]).toMatchObject({ class: "A", precision: 0.5, recall: 0.5, f1: 0.5, support: 2 });
    expect(e.perClass[1].precision).toBeCloseTo(2 / 3, 12);
    expect(e.perClass[1].recall).toBeCloseTo(2 / 3, 12);
    expect(e.f1Macro).toBeCloseTo((0.5 + 2 / 3) / 2, 12);
    expect(e.metrics.f1).toBeCloseTo(2 / 3, 12);
  });

  it("computes log loss and AUC", () => {
    const expected = -(Math.log(0.9) + Math.log(0.4) + Math.log(0.7) + Math.log(0.4) + Math.log(0.9)) / 5;
    expect(e.logLoss).toBeCloseTo(expected, 12);
    // Positive scores .7 .4 .9 against negatives .1 .6: 5 of 6 pairs ordered.
    expect(e.rocAuc).toBeCloseTo(5 / 6, 12);
  });

  it("gives the ROC and PR curves point by point, and average precision", () => {
    const curve = e.curves[0];
    expect(curve.class).toBe("B");
    expect(curve.roc.map((p) => [p.fpr, p.tpr])).toEqual([
      [0, 0],
      [0, 1 / 3],
      [0, 2 / 3],
      [0.5, 2 / 3],
      [0.5, 1],
      [1, 1],
    ]);
    expect(curve.pr.map((p) => [p.recall, p.precision])).toEqual([
      [0, 1],
      [1 / 3, 1],
      [2 / 3, 1],
      [2 / 3, 2 / 3],
      [1, 3 / 4],
      [1, 3 / 5],
    ]);
    expect(curve.averagePrecision).toBeCloseTo(1 / 3 + 1 / 3 + (1 / 3) * (3 / 4), 12);
  });

  it("accepts two-column probability rows and numeric labels alike", () => {
    const rows = pB.map((p) => [1 - p, p]);
    const again = classification(evaluate("binary", [0, 0, 1, 1, 1], rows, ["0", "1"]));
    expect(again.accuracy).toBeCloseTo(e.accuracy, 12);
    expect(again.rocAuc).toBeCloseTo(5 / 6, 12);
  });
});

describe("evaluate: multiclass", () => {
  it("scores a perfect model 1 everywhere and averages one-vs-rest AUCs", () => {
    const yTrue = ["x", "y", "z", "x"];
    const proba = [
      [0.8, 0.1, 0.1],
      [0.2, 0.7, 0.1],
      [0.1, 0.1, 0.8],
      [0.6, 0.3, 0.1],
    ];
    const e = classification(evaluate("multiclass", yTrue, proba));
    expect(e.classes).toEqual(["x", "y", "z"]);
    expect(e.accuracy).toBe(1);
    expect(e.f1Macro).toBe(1);
    expect(e.rocAuc).toBe(1);
    expect(e.curves.map((c) => c.class)).toEqual(["x", "y", "z"]);
    expect(e.confusionMatrix).toEqual([
      [2, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ]);
  });

  it("leaves a class absent from truth and predictions out of the macro average", () => {
    const e = classification(
      evaluate(
        "multiclass",
        ["x", "y"],
        [
          [0.9, 0.05, 0.05],
          [0.1, 0.8, 0.1],
        ],
        ["x", "y", "z"],
      ),
    );
    expect(e.f1Macro).toBe(1);
    expect(e.curves[2].rocAuc).toBeNull();
  });

  it("refuses labels outside the classes and mismatched lengths", () => {
    expect(() => evaluate("multiclass", ["w"], [[1, 0]], ["x", "y"])).toThrow(OuroError);
    expect(() => evaluate("binary", ["x", "y"], [0.5], ["x", "y"])).toThrow(/2 truths but 1 predictions/);
    expect(() => evaluate("binary", ["x"], [1.5], ["x", "y"])).toThrow(/outside \[0, 1\]/);
  });
});

describe("evaluate: regression", () => {
  it("computes RMSE, MAE, R² and the residual histogram", () => {
    const e = regression(evaluate("regression", [1, 2, 3, 4], [1, 2, 3, 5]));
    expect(e.rmse).toBeCloseTo(0.5, 12);
    expect(e.mae).toBeCloseTo(0.25, 12);
    // SS_res = 1, SS_tot = 2.25 + 0.25 + 0.25 + 2.25 = 5
    expect(e.r2).toBeCloseTo(0.8, 12);
    expect(e.meanResidual).toBeCloseTo(-0.25, 12);
    expect(e.residualHistogram.counts).toHaveLength(20);
    expect(e.residualHistogram.edges).toHaveLength(21);
    expect(e.residualHistogram.edges[0]).toBe(-1);
    expect(e.residualHistogram.edges[20]).toBe(0);
    expect(e.residualHistogram.counts[0]).toBe(1);
    expect(e.residualHistogram.counts[19]).toBe(3);
  });

  it("has no R² for a constant truth", () => {
    expect(regression(evaluate("regression", [2, 2], [1, 3])).r2).toBeNull();
  });

  it("bins a large input without overflowing the stack", () => {
    const values = Array.from({ length: 300_000 }, (_, i) => i);
    expect(histogram(values, 20).counts.reduce((a, b) => a + b, 0)).toBe(300_000);
  });
});
