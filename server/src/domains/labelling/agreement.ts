// How much labellers agree. Pure functions over the answers of one task (skips excluded).
//
// - percentAgreement: over rows with at least two answers, the mean share of labeller pairs
//   that gave the same answer (for two labellers: the share of rows they agree on). This is
//   Fleiss' P̄. Multi-label answers agree when the sets are equal.
// - fleissKappa (class labels): (P̄ − Pₑ) / (1 − Pₑ) with Pₑ = Σ pⱼ², pⱼ the share of all
//   answers on those rows that are class j. Rows may have different numbers of answers; each
//   row's agreement is computed on its own count (the usual generalisation).
// - cohenKappa per pair of labellers (class labels), over the rows both answered:
//   (pₒ − pₑ) / (1 − pₑ), pₑ from each labeller's own class shares on those rows. The task's
//   `cohenKappa` is the pair's when exactly two people labelled, else the mean over pairs
//   weighted by shared rows.
// A kappa whose chance agreement is 1 (everyone always gave one class) is undefined: null.
import { consensus, sameLabel, tally, type LabelSchema, type LabelValue } from "./label-schema";

export interface Answer {
  itemId: string;
  userId: string;
  value: LabelValue;
}

export interface PairAgreement {
  userA: string;
  userB: string;
  /** Rows both labelled. */
  items: number;
  percentAgreement: number | null;
  cohenKappa: number | null;
}

export interface ClassCount {
  class: string;
  /** Answers naming the class. */
  labels: number;
  /** Rows whose consensus label is (or, multi-label, includes) the class. */
  consensus: number;
}

export interface Agreement {
  labelledItems: number;
  /** Rows with at least two answers: the ones agreement is measured on. */
  comparedItems: number;
  labellers: number;
  percentAgreement: number | null;
  fleissKappa: number | null;
  cohenKappa: number | null;
  pairs: PairAgreement[];
  classCounts: ClassCount[];
  /** Numeric labels: mean |a − b| over pairs of answers on the same row. */
  meanAbsoluteDifference: number | null;
}

const kappa = (observed: number, chance: number): number | null => (chance >= 1 - 1e-12 ? null : (observed - chance) / (1 - chance));

export function agreement(schema: LabelSchema, answers: Answer[]): Agreement {
  const byItem = new Map<string, Answer[]>();
  for (const a of answers) (byItem.get(a.itemId) ?? byItem.set(a.itemId, []).get(a.itemId)!).push(a);
  const users = [...new Set(answers.map((a) => a.userId))].sort();
  const compared = [...byItem.values()].filter((rows) => rows.length >= 2);
  const isClasses = schema.kind === "classes";

  // Fleiss' P̄ (any kind but numeric, where exact equality says little) and Pₑ (classes).
  let percentAgreement: number | null = null;
  let fleissKappa: number | null = null;
  if (compared.length && schema.kind !== "numeric") {
    let sumP = 0;
    for (const rows of compared) {
      let agreeing = 0;
      for (let i = 0; i < rows.length; i++) for (let j = i + 1; j < rows.length; j++) if (sameLabel(rows[i].value, rows[j].value)) agreeing++;
      sumP += agreeing / ((rows.length * (rows.length - 1)) / 2);
    }
    percentAgreement = sumP / compared.length;
    if (isClasses) {
      const all = compared.flat().map((a) => a.value as string);
      const chance = [...tally(all).values()].reduce((s, n) => s + (n / all.length) ** 2, 0);
      fleissKappa = kappa(percentAgreement, chance);
    }
  }

  const pairs: PairAgreement[] = [];
  for (let a = 0; a < users.length; a++) {
    for (let b = a + 1; b < users.length; b++) {
      const shared: [LabelValue, LabelValue][] = [];
      for (const rows of compared) {
        const va = rows.find((r) => r.userId === users[a]);
        const vb = rows.find((r) => r.userId === users[b]);
        if (va && vb) shared.push([va.value, vb.value]);
      }
      if (!shared.length) continue;
      const observed = schema.kind === "numeric" ? null : shared.filter(([x, y]) => sameLabel(x, y)).length / shared.length;
      let cohen: number | null = null;
      if (isClasses && observed !== null) {
        const ta = tally(shared.map(([x]) => x as string));
        const tb = tally(shared.map(([, y]) => y as string));
        const chance = [...ta].reduce((s, [k, n]) => s + (n / shared.length) * ((tb.get(k) ?? 0) / shared.length), 0);
        cohen = kappa(observed, chance);
      }
      pairs.push({ userA: users[a], userB: users[b], items: shared.length, percentAgreement: observed, cohenKappa: cohen });
    }
  }
  const withKappa = pairs.filter((p) => p.cohenKappa !== null);
  const weight = withKappa.reduce((s, p) => s + p.items, 0);
  const cohenKappa = withKappa.length ? withKappa.reduce((s, p) => s + p.cohenKappa! * p.items, 0) / weight : null;

  let classCounts: ClassCount[] = [];
  if (schema.kind !== "numeric") {
    const labels = tally(answers.flatMap((a) => (Array.isArray(a.value) ? a.value : [a.value as string])));
    const consensusCounts = tally(
      [...byItem.values()].flatMap((rows) => {
        const c = consensus(schema, rows.map((r) => r.value));
        return c === null ? [] : Array.isArray(c) ? c : [c as string];
      }),
    );
    classCounts = schema.classes.map((c) => ({ class: c, labels: labels.get(c) ?? 0, consensus: consensusCounts.get(c) ?? 0 }));
  }

  let meanAbsoluteDifference: number | null = null;
  if (schema.kind === "numeric" && compared.length) {
    let sum = 0;
    let n = 0;
    for (const rows of compared) {
      for (let i = 0; i < rows.length; i++) {
        for (let j = i + 1; j < rows.length; j++) {
          sum += Math.abs((rows[i].value as number) - (rows[j].value as number));
          n++;
        }
      }
    }
    meanAbsoluteDifference = sum / n;
  }

  return {
    labelledItems: byItem.size,
    comparedItems: compared.length,
    labellers: users.length,
    percentAgreement,
    fleissKappa,
    cohenKappa: users.length === 2 ? (pairs[0]?.cohenKappa ?? null) : cohenKappa,
    pairs,
    classCounts,
    meanAbsoluteDifference,
  };
}
