// The drift library: pure functions, no I/O. See docs/benchmarks-monitoring.md for how the
// monitors use them and what the numbers mean.
export { alignCategories, chiSquare, countCategories, hellinger, jensenShannon, proportions, psi, PSI_EMPTY_BIN, totalVariation, type TestResult } from "./distribution";
export { ksTwoSample, numericDrift, type NumericDrift } from "./ks";
export { binCounts, binCountsInRange, binCountsSorted, equalWidthEdges, ks2samp, ksFromHistograms, ksFromSorted, ksPValue } from "./numeric";
export { radixSortFloat64, sortedFinite } from "./sort";
export { chi2Sf, gammaQ, kolmogorovSf, logGamma } from "./special";
