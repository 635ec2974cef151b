import { badInput } from "../../platform/errors";
import { modelSpec } from "./training/spec";

/** One dimension of a search: a list of values, or a numeric range sampled at random. */
export interface Dimension {
  name: string;
  values?: unknown[] | null;
  min?: number | null;
  max?: number | null;
  log?: boolean | null;
  integer?: boolean | null;
}

export type Strategy = "grid" | "random";

const MAX_TRIALS = 200;

/** Small seeded generator (mulberry32): the same seed gives the same trials. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function checkDimension(d: Dimension, i: number, strategy: Strategy): void {
  if (!/^[a-zA-Z]\w{0,39}$/.test(d.name)) throw badInput(`space[${i}]: name must be a model setting such as learningRate`);
  const hasValues = Array.isArray(d.values) && d.values.length > 0;
  const hasRange = d.min != null && d.max != null;
  if (hasValues === hasRange) throw badInput(`space[${i}] (${d.name}): give either values or min and max`);
  if (strategy === "grid" && !hasValues) throw badInput(`space[${i}] (${d.name}): a grid needs a list of values`);
  if (hasRange && !(d.min! < d.max!)) throw badInput(`space[${i}] (${d.name}): min must be below max`);
  if (hasRange && d.log && d.min! <= 0) throw badInput(`space[${i}] (${d.name}): a log range needs min > 0`);
  if (hasValues && d.values!.length > 100) throw badInput(`space[${i}] (${d.name}): at most 100 values`);
}

function sample(d: Dimension, next: () => number): unknown {
  if (d.values?.length) return d.values[Math.floor(next() * d.values.length)];
  const [lo, hi] = [d.min!, d.max!];
  const x = d.log ? Math.exp(Math.log(lo) + next() * (Math.log(hi) - Math.log(lo))) : lo + next() * (hi - lo);
  return d.integer ? Math.round(x) : x;
}

/**
 * The model settings of every trial: the cartesian product of the values (grid) or `trials`
 * seeded draws (random), each merged over `base` and checked as a model spec before any
 * work starts, so a typo fails the mutation rather than trial 37.
 */
export function trialModels(base: Record<string, unknown>, space: Dimension[], strategy: Strategy, trials: number, seed: number): Record<string, unknown>[] {
  if (space.length === 0 || space.length > 20) throw badInput("space: 1 to 20 dimensions");
  space.forEach((d, i) => checkDimension(d, i, strategy));
  let settings: Record<string, unknown>[];
  if (strategy === "grid") {
    settings = [{}];
    for (const d of space) settings = settings.flatMap((s) => d.values!.map((v) => ({ ...s, [d.name]: v })));
  } else {
    if (!Number.isInteger(trials) || trials < 1) throw badInput("trials must be at least 1");
    const next = rng(seed);
    settings = Array.from({ length: trials }, () => Object.fromEntries(space.map((d) => [d.name, sample(d, next)])));
  }
  if (settings.length > MAX_TRIALS) throw badInput(`the search has ${settings.length} trials; at most ${MAX_TRIALS}`);
  return settings.map((s, i) => {
    const model = { ...base, ...s };
    const parsed = modelSpec.safeParse(model);
    if (!parsed.success) throw badInput(`trial ${i} (${JSON.stringify(s)}): ${parsed.error.issues.map((x) => `${x.path.join(".")}: ${x.message}`).join("; ")}`);
    return model;
  });
}
