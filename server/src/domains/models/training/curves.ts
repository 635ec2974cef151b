// Ranking metrics of one score against one binary truth: ROC AUC, the ROC and
// precision–recall curves, average precision. Pure TypeScript so that evaluation gives the
// same numbers wherever it runs, with or without a TensorFlow backend.

/** The curves sent to a client are capped at this many points each; enough to draw, small to store. */
export const MAX_CURVE_POINTS = 200;

/** `threshold` null is the start of the curve, where nothing is called positive. */
export interface RocPoint {
  fpr: number;
  tpr: number;
  threshold: number | null;
}

export interface PrPoint {
  recall: number;
  precision: number;
  threshold: number | null;
}

export interface BinaryRanking {
  /** Area under the ROC curve; null when the truth has only one class (it is undefined then). */
  auc: number | null;
  averagePrecision: number | null;
  roc: RocPoint[];
  pr: PrPoint[];
}

/**
 * ROC AUC as the Mann–Whitney statistic: the probability that a random positive scores above
 * a random negative, ties counting one half. Exact, O(n log n), and it needs no curve.
 */
export function rocAuc(positive: ArrayLike<boolean>, score: ArrayLike<number>): number | null {
  const n = score.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[a] - score[b]);
  let positives = 0;
  let rankSumPositives = 0;
  for (let start = 0; start < n; ) {
    let end = start;
    while (end + 1 < n && score[order[end + 1]] === score[order[start]]) end++;
    const averageRank = (start + end) / 2 + 1; // ranks are 1-based; ties share their mean rank
    for (let k = start; k <= end; k++) {
      if (positive[order[k]]) {
        positives++;
        rankSumPositives += averageRank;
      }
    }
    start = end + 1;
  }
  const negatives = n - positives;
  if (positives === 0 || negatives === 0) return null;
  return (rankSumPositives - (positives * (positives + 1)) / 2) / (positives * negatives);
}

/**
 * The ROC and PR curves at every distinct score (descending), then thinned to
 * MAX_CURVE_POINTS. Average precision is computed on the full curve, as scikit-learn does:
 * Σ (Rₙ − Rₙ₋₁) · Pₙ.
 */
export function binaryRanking(positive: ArrayLike<boolean>, score: ArrayLike<number>): BinaryRanking {
  const n = score.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => score[b] - score[a]);
  let totalPositives = 0;
  for (let i = 0; i < n; i++) if (positive[i]) totalPositives++;
  const totalNegatives = n - totalPositives;
  const auc = rocAuc(positive, score);
  if (totalPositives === 0 || totalNegatives === 0) return { auc, averagePrecision: null, roc: [], pr: [] };

  const roc: RocPoint[] = [{ fpr: 0, tpr: 0, threshold: null }];
  const pr: PrPoint[] = [{ recall: 0, precision: 1, threshold: null }];
  let tp = 0;
  let fp = 0;
  let averagePrecision = 0;
  let previousRecall = 0;
  for (let k = 0; k < n; ) {
    const threshold = score[order[k]];
    // Everything scoring at least `threshold` is called positive: take all ties at once.
    while (k < n && score[order[k]] === threshold) {
      if (positive[order[k]]) tp++;
      else fp++;
      k++;
    }
    const recall = tp / totalPositives;
    const precision = tp / (tp + fp);
    roc.push({ fpr: fp / totalNegatives, tpr: recall, threshold });
    pr.push({ recall, precision, threshold });
    averagePrecision += (recall - previousRecall) * precision;
    previousRecall = recall;
  }
  return { auc, averagePrecision, roc: thin(roc), pr: thin(pr) };
}

/** At most `max` points, evenly spaced along the list, always keeping the first and the last. */
export function thin<T>(points: T[], max = MAX_CURVE_POINTS): T[] {
  if (points.length <= max) return points;
  const kept: T[] = [];
  for (let i = 0; i < max; i++) kept.push(points[Math.round((i * (points.length - 1)) / (max - 1))]);
  return kept;
}
