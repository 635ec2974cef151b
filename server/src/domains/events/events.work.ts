import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import pl from "nodejs-polars";
import { badInput } from "../../platform/errors";
import type { Converted } from "../datasets/ingest.work";
import { schemaOf } from "../datasets/profile.work";
import { writeParquet } from "../datasets/sources/write-parquet";
import type { Aggregation, EventField } from "./event.entity";

// Runs in a task subprocess (see platform/subprocess.ts): polars calls block the thread.

export interface EventsSpec {
  entityKeys: string[];
  timeColumn: string;
  fields: EventField[];
  aggregations: Aggregation[];
}

/** One exported event per line: {i: id, k: entity key, t: epoch ms, p: field values}. */
export interface ExportedEvent {
  i: string;
  k: string;
  t: number;
  p: Record<string, unknown>;
}

const KEY = "__key";
const T = "__t";
const M = "__m";
const TE = "__te";
const ME = "__me";
const ID = "__ie";
const FIELD = (f: string) => `__f_${f}`;

const DTYPES = { string: pl.Utf8, integer: pl.Int64, float: pl.Float64, boolean: pl.Bool } as const;

async function readEvents(file: string, spec: EventsSpec): Promise<pl.DataFrame> {
  const ids: string[] = [];
  const keys: string[] = [];
  const times: number[] = [];
  const values = new Map(spec.fields.map((f) => [f.name, [] as unknown[]]));
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    if (!line) continue;
    const e = JSON.parse(line) as ExportedEvent;
    ids.push(e.i);
    keys.push(e.k);
    times.push(e.t);
    for (const f of spec.fields) values.get(f.name)!.push(e.p[f.name]);
  }
  if (!ids.length) throw badInput("the feature set has no events yet");
  return pl.DataFrame([
    pl.Series(ID, ids, pl.Utf8),
    pl.Series(KEY, keys, pl.Utf8),
    pl.Series(TE, times, pl.Int64),
    // The same minute arithmetic as the streaming path (windows.ts minuteOf).
    pl.Series(ME, times.map((t) => Math.floor(t / 60_000)), pl.Int64),
    ...spec.fields.map((f) => pl.Series(f.name, values.get(f.name)!, DTYPES[f.type])),
  ]);
}

function aggregate(a: Aggregation): pl.Expr {
  const inWindow = pl.col(ME).gtEq(pl.col(M).minus(a.windowMinutes - 1));
  const col = pl.col(a.field ? FIELD(a.field) : TE).filter(inWindow);
  const expr = {
    count: () => col.count(),
    sum: () => col.sum(),
    mean: () => col.mean(),
    min: () => col.min(),
    max: () => col.max(),
    last: () => col.last(),
    distinct_count: () => col.nUnique(),
  }[a.function]();
  return expr.alias(a.name);
}

/**
 * The window aggregations in batch, as of every event time of every entity: for each distinct
 * (entity, time T), each aggregation over the entity's events with time <= T whose minute is
 * one of the W minutes ending with T's minute — the definition the streaming path keeps
 * online (windows.ts). One output row per (entity, event time): the entity key columns, the
 * event time (Datetime ms) and one column per aggregation, which is what buildTrainingSet
 * joins as of each spine row's time.
 *
 * Cost: a join of each entity's event times with its events, so quadratic in the events of
 * one entity; fine for per-entity streams of up to some thousands of events.
 */
export async function materializeEvents(input: { eventsFile: string; spec: EventsSpec; out: string }): Promise<Converted & { entities: number }> {
  const { spec } = input;
  const events = await readEvents(input.eventsFile, spec);
  const points = events.select(KEY, TE, ME, ...spec.entityKeys).unique().rename({ [TE]: T, [ME]: M });
  const right = events.select(KEY, TE, ME, ID, ...spec.fields.map((f) => pl.col(f.name).alias(FIELD(f.name))));
  const longest = Math.max(...spec.aggregations.map((a) => a.windowMinutes));
  const joined = points
    .join(right, { on: KEY })
    .filter(pl.col(TE).ltEq(pl.col(T)).and(pl.col(ME).gtEq(pl.col(M).minus(longest - 1))))
    // Within each group rows stay in this order, so `last` is the latest event (ties: greatest id).
    .sort([KEY, T, TE, ID]);
  const firstOf = spec.entityKeys.map((k) => pl.col(k).first().alias(k));
  const values = joined.groupBy([KEY, T]).agg(...firstOf, ...spec.aggregations.map(aggregate));
  const out = values
    .sort([T, KEY])
    .select(...spec.entityKeys, pl.col(T).cast(pl.Datetime("ms")).alias(spec.timeColumn), ...spec.aggregations.map((a) => a.name));
  writeParquet(out, input.out);
  return { schema: schemaOf(out), rowCount: out.height, entities: points.select(KEY).unique().height };
}
