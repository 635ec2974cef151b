import { describe, expect, it } from "vitest";
import { OuroError } from "../../platform/errors";
import { agreement, type Answer } from "./agreement";
import { consensus, parseLabelSchema, parseLabelValue, type LabelSchema } from "./label-schema";

const yesNo: LabelSchema = { kind: "classes", classes: ["yes", "no"] };

/** Two labellers over rows given as [a's answer, b's answer, how many rows]. */
function twoLabellers(cells: [string, string, number][]): Answer[] {
  const answers: Answer[] = [];
  let row = 0;
  for (const [a, b, n] of cells) {
    for (let i = 0; i < n; i++, row++) answers.push({ itemId: `r${row}`, userId: "a", value: a }, { itemId: `r${row}`, userId: "b", value: b });
  }
  return answers;
}

describe("agreement", () => {
  it("gives Cohen's kappa 0.4 on the textbook 50-row yes/no table", () => {
    // 20 both yes, 5 a yes b no, 10 a no b yes, 15 both no: pₒ = 0.7, pₑ = 0.5·0.6 + 0.5·0.4 = 0.5.
    const r = agreement(yesNo, twoLabellers([["yes", "yes", 20], ["yes", "no", 5], ["no", "yes", 10], ["no", "no", 15]]));
    expect(r.comparedItems).toBe(50);
    expect(r.percentAgreement).toBeCloseTo(0.7, 12);
    expect(r.cohenKappa).toBeCloseTo(0.4, 12);
    expect(r.pairs).toEqual([{ userA: "a", userB: "b", items: 50, percentAgreement: 0.7, cohenKappa: expect.closeTo(0.4, 12) }]);
    // Fleiss pools both labellers' shares: p(yes) = 55/100, Pₑ = 0.55² + 0.45² = 0.505.
    expect(r.fleissKappa).toBeCloseTo((0.7 - 0.505) / (1 - 0.505), 12);
    expect(r.classCounts).toEqual([
      { class: "yes", labels: 55, consensus: 20 },
      { class: "no", labels: 45, consensus: 15 },
    ]);
  });

  it("gives Fleiss' kappa 0.210 on Fleiss' 10-subject, 14-rater example", () => {
    const table = [
      [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
      [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
    ];
    const schema: LabelSchema = { kind: "classes", classes: ["1", "2", "3", "4", "5"] };
    const answers: Answer[] = table.flatMap((counts, row) => {
      let rater = 0;
      return counts.flatMap((n, k) => Array.from({ length: n }, () => ({ itemId: `s${row}`, userId: `rater${rater++}`, value: String(k + 1) })));
    });
    const r = agreement(schema, answers);
    expect(r.percentAgreement).toBeCloseTo(0.378, 3);
    expect(r.fleissKappa).toBeCloseTo(0.21, 3);
    expect(r.labellers).toBe(14);
  });

  it("leaves kappa undefined when everyone always gives one class, and ignores single-answer rows", () => {
    const r = agreement(yesNo, [...twoLabellers([["yes", "yes", 3]]), { itemId: "lonely", userId: "a", value: "no" }]);
    expect(r.percentAgreement).toBe(1);
    expect(r.fleissKappa).toBeNull();
    expect(r.cohenKappa).toBeNull();
    expect(r.labelledItems).toBe(4);
    expect(r.comparedItems).toBe(3);
  });

  it("compares multi-label answers as sets and numeric answers by mean absolute difference", () => {
    const multi: LabelSchema = { kind: "multiLabel", classes: ["x", "y", "z"] };
    const m = agreement(multi, [
      { itemId: "1", userId: "a", value: ["x", "y"] },
      { itemId: "1", userId: "b", value: ["x", "y"] },
      { itemId: "2", userId: "a", value: ["x"] },
      { itemId: "2", userId: "b", value: ["x", "z"] },
    ]);
    expect(m.percentAgreement).toBe(0.5);
    expect(m.fleissKappa).toBeNull();
    expect(m.classCounts).toEqual([
      { class: "x", labels: 4, consensus: 2 },
      { class: "y", labels: 2, consensus: 1 },
      { class: "z", labels: 1, consensus: 0 },
    ]);
    const n = agreement({ kind: "numeric", min: 0, max: 10 }, [
      { itemId: "1", userId: "a", value: 2 },
      { itemId: "1", userId: "b", value: 5 },
      { itemId: "2", userId: "a", value: 7 },
      { itemId: "2", userId: "b", value: 8 },
    ]);
    expect(n.meanAbsoluteDifference).toBe(2);
    expect(n.percentAgreement).toBeNull();
  });
});

describe("consensus", () => {
  it("takes the most chosen class and leaves ties unlabelled", () => {
    expect(consensus(yesNo, ["yes", "no", "yes"])).toBe("yes");
    expect(consensus(yesNo, ["yes", "no"])).toBeNull();
    expect(consensus(yesNo, [])).toBeNull();
  });
  it("keeps the classes more than half chose, and the median number", () => {
    const multi: LabelSchema = { kind: "multiLabel", classes: ["x", "y", "z"] };
    expect(consensus(multi, [["x", "y"], ["x"], ["y", "z"]])).toEqual(["x", "y"]);
    expect(consensus(multi, [["x"], ["y"]])).toEqual([]);
    expect(consensus({ kind: "numeric", min: 0, max: 9 }, [1, 9, 2])).toBe(2);
    expect(consensus({ kind: "numeric", min: 0, max: 9 }, [1, 2, 4, 9])).toBe(3);
  });
});

describe("label schema and values", () => {
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (err) {
      return (err as OuroError).code;
    }
    return "no error";
  };
  it("refuses malformed schemas", () => {
    expect(code(() => parseLabelSchema({ kind: "classes", classes: ["only"] }))).toBe("BAD_USER_INPUT");
    expect(code(() => parseLabelSchema({ kind: "classes", classes: ["a", "a"] }))).toBe("BAD_USER_INPUT");
    expect(code(() => parseLabelSchema({ kind: "numeric", min: 5, max: 5 }))).toBe("BAD_USER_INPUT");
    expect(code(() => parseLabelSchema({ kind: "ordinal" }))).toBe("BAD_USER_INPUT");
  });
  it("refuses answers outside the schema and normalises multi-label order", () => {
    expect(code(() => parseLabelValue(yesNo, { class: "maybe" }))).toBe("BAD_USER_INPUT");
    expect(code(() => parseLabelValue(yesNo, { number: 1 }))).toBe("BAD_USER_INPUT");
    expect(code(() => parseLabelValue({ kind: "numeric", min: 0, max: 1 }, { number: 1.5 }))).toBe("BAD_USER_INPUT");
    expect(parseLabelValue({ kind: "multiLabel", classes: ["x", "y", "z"] }, { classes: ["z", "x"] })).toEqual(["x", "z"]);
    expect(code(() => parseLabelValue({ kind: "multiLabel", classes: ["x"] }, { classes: ["x", "x"] }))).toBe("BAD_USER_INPUT");
  });
});
