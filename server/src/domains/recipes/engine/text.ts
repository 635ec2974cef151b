// Tokenising and hashing for textHash. Polars does the tokenising in batch with the same
// rule (lowercase, then split on runs of anything that is not a Unicode letter or digit);
// the hash is always computed here, because polars' own hash() is seeded and may change
// between versions, and a model's features must not. No polars import.

/** Regex source shared with the batch path (Rust's regex and V8 both know \p{L} and \p{N}). */
export const TOKEN_SEPARATOR = "[^\\p{L}\\p{N}]+";
const SEPARATOR_RE = new RegExp(TOKEN_SEPARATOR, "u");

export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .split(SEPARATOR_RE)
    .filter((token) => token.length > 0);
}

const encoder = new TextEncoder();

/** 32-bit FNV-1a over the UTF-8 bytes: tiny, stable forever, good enough spread for buckets. */
export function fnv1a(token: string): number {
  let hash = 0x811c9dc5;
  for (const byte of encoder.encode(token)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export const bucketOf = (token: string, buckets: number): number => fnv1a(token) % buckets;

/** Term counts per bucket for one document (sparse). */
export function hashCounts(text: string, buckets: number): Map<number, number> {
  const counts = new Map<number, number>();
  for (const token of tokenize(text)) {
    const bucket = bucketOf(token, buckets);
    counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
  }
  return counts;
}

/** Smoothed IDF as scikit-learn computes it: ln((1 + n) / (1 + df)) + 1. */
export const smoothIdf = (documents: number, documentFrequency: number): number =>
  Math.log((1 + documents) / (1 + documentFrequency)) + 1;
