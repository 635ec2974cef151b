// Sorting numbers for the two-sample KS test. A KS statistic on a million values per side is
// mostly sorting; Float64Array#sort is a comparison sort (n log n, ~20 compares per value), an
// LSD radix sort over the IEEE-754 bit patterns is four linear passes.

const DIGIT_BITS = 16;
const RADIX = 1 << DIGIT_BITS;
const MASK = RADIX - 1;

/**
 * The finite values of `values`, sorted ascending, in a new Float64Array. NaN and ±Infinity
 * are left out (they are reported by data quality, not measured as drift); -0 becomes 0.
 */
export function sortedFinite(values: ArrayLike<number>): Float64Array {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) n++;
  const out = new Float64Array(n);
  let k = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (Number.isFinite(v)) out[k++] = v === 0 ? 0 : v;
  }
  radixSortFloat64(out);
  return out;
}

/**
 * Sorts finite doubles in place. The order-preserving key of a double is its bit pattern with
 * the sign bit flipped (positives) or every bit flipped (negatives); the key is computed on
 * the fly from the 32-bit halves so the values themselves are moved unchanged. Passes whose
 * digit is the same for every value (common for the top bits of bounded data) are skipped.
 */
export function radixSortFloat64(values: Float64Array, scratch?: Float64Array): Float64Array {
  const n = values.length;
  if (n < 256) {
    values.sort();
    return values;
  }
  const buffer = scratch && scratch.length >= n ? scratch.subarray(0, n) : new Float64Array(n);
  const counts = new Uint32Array(4 * RADIX);
  const words = new Uint32Array(values.buffer, values.byteOffset, n * 2);
  for (let i = 0; i < n; i++) {
    const lo = words[2 * i];
    const hi = words[2 * i + 1];
    const m = hi >> 31; // -1 for negatives, 0 otherwise
    const klo = (lo ^ m) >>> 0;
    const khi = (hi ^ (m | 0x80000000)) >>> 0;
    counts[klo & MASK]++;
    counts[RADIX + (klo >>> 16)]++;
    counts[2 * RADIX + (khi & MASK)]++;
    counts[3 * RADIX + (khi >>> 16)]++;
  }
  let src = values;
  let dst = buffer;
  for (let pass = 0; pass < 4; pass++) {
    const base = pass * RADIX;
    // Exclusive prefix sums become the write positions; a pass with one full bucket changes nothing.
    let trivial = false;
    let sum = 0;
    for (let d = 0; d < RADIX; d++) {
      const c = counts[base + d];
      if (c === n) trivial = true;
      counts[base + d] = sum;
      sum += c;
    }
    if (trivial) continue;
    const srcWords = new Uint32Array(src.buffer, src.byteOffset, n * 2);
    const high = pass >= 2;
    const shift = pass % 2 === 0 ? 0 : 16;
    for (let i = 0; i < n; i++) {
      const hi = srcWords[2 * i + 1];
      const m = hi >> 31;
      const key = high ? (hi ^ (m | 0x80000000)) >>> 0 : (srcWords[2 * i] ^ m) >>> 0;
      const d = (key >>> shift) & MASK;
      dst[counts[base + d]++] = src[i];
    }
    const t = src;
    src = dst;
    dst = t;
  }
  if (src !== values) values.set(src);
  return values;
}
