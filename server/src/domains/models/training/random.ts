// A small seeded generator for everything training shuffles or samples outside TensorFlow.js.
// Math.random cannot be seeded, and reproducibility is a promise the run makes to its user:
// the same seed, data and settings must give the same split, the same batches and the same
// losses.

/** mulberry32: 32 bits of state, fast, and good enough for shuffling (not for cryptography). */
export function seededRandom(seed: number): () => number {
  let state = Math.trunc(seed) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher–Yates in place; returns the same array for chaining. */
export function shuffleInPlace<T>(items: T[] | Uint32Array, random: () => number): typeof items {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const tmp = items[i];
    items[i] = items[j];
    items[j] = tmp;
  }
  return items;
}

/** 0..n-1 in a seeded random order. */
export function permutation(n: number, random: () => number): Uint32Array {
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  shuffleInPlace(order, random);
  return order;
}

/**
 * Derives independent seeds for the separate random streams of one run (split, batch order,
 * initialisers, dropout), so that changing e.g. the number of epochs does not change the split.
 */
export function deriveSeed(seed: number, stream: string): number {
  let h = (Math.trunc(seed) ^ 0x9e3779b9) >>> 0;
  for (let i = 0; i < stream.length; i++) h = Math.imul(h ^ stream.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}
