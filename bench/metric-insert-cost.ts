/**
 * What a metric row costs PostgreSQL, by what the table carries: the same 1,000-row unnest
 * INSERT as logMetrics, into copies of `metric_points` with fewer constraints each time. It
 * explains the ceiling of bench/metrics-ingest.ts's raw baseline (and so of logMetrics).
 *
 *   node -r @swc-node/register bench/metric-insert-cost.ts [--batches=100]
 *
 * Baseline, same run: a bare heap table with the same columns and no index at all. Variants
 * are run in rotation, twice, so drift on a shared machine spreads over all of them.
 */
import pg from "pg";
import { createLogger } from "../server/src/platform/logger";
import { migrate } from "../server/src/platform/migrate";
import { waitForQuiet } from "./cpu";
import { arg, fmt, startDatabase, stats, table } from "./lib";

const BATCHES = arg("batches", 100);

const VARIANTS: [name: string, ddl: string][] = [
  ["as migrated: bigserial PK, UNIQUE (run_id, key, step), (run_id, seq) index, FK to runs", "CREATE TABLE v (LIKE metric_points INCLUDING ALL); ALTER TABLE v ADD FOREIGN KEY (run_id) REFERENCES r(id)"],
  ["without the FK", "CREATE TABLE v (LIKE metric_points INCLUDING ALL)"],
  ["without FK and UNIQUE (no ON CONFLICT)", "CREATE TABLE v (seq bigserial PRIMARY KEY, run_id uuid, key text, step bigint, value float8, recorded_at timestamptz); CREATE INDEX ON v (run_id, seq)"],
  ["heap only, no index (baseline)", "CREATE TABLE v (seq bigserial, run_id uuid, key text, step bigint, value float8, recorded_at timestamptz)"],
];

async function timeVariant(client: pg.Client, ddl: string, withConflict: boolean): Promise<number[]> {
  await client.query("DROP TABLE IF EXISTS v");
  await client.query(ddl);
  const run = (await client.query<{ id: string }>("INSERT INTO r VALUES (gen_random_uuid()) RETURNING id")).rows[0].id;
  const times: number[] = [];
  for (let b = 0; b < BATCHES; b++) {
    const keys: string[] = [], steps: number[] = [], values: number[] = [];
    for (let k = 0; k < 10; k++) for (let j = 0; j < 100; j++) keys.push(`m${k}`), steps.push(b * 100 + j), values.push(Math.sin(j));
    const now = new Date().toISOString();
    const t0 = performance.now();
    await client.query(
      `INSERT INTO v (run_id, key, step, value, recorded_at)
       SELECT $1, k, s, v, t FROM unnest($2::text[], $3::bigint[], $4::float8[], $5::timestamptz[]) AS u(k, s, v, t)` +
        (withConflict ? " ON CONFLICT (run_id, key, step) DO NOTHING" : ""),
      [run, keys, steps, values, keys.map(() => now)],
    );
    times.push(performance.now() - t0);
  }
  return times;
}

async function main() {
  const db = await startDatabase();
  try {
    await migrate(db.url, createLogger("warn", "bench"));
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    await client.query("CREATE TABLE r (id uuid PRIMARY KEY)"); // stands in for runs
    const samples = VARIANTS.map(() => [] as number[]);
    const busy: number[] = [];
    for (let round = 0; round < 2; round++) {
      busy.push(await waitForQuiet());
      for (const [i, [, ddl]] of VARIANTS.entries()) samples[i].push(...(await timeVariant(client, ddl, i < 2)));
    }
    await client.end();
    const base = stats(samples[VARIANTS.length - 1]).p50;
    console.log(`\n### PostgreSQL cost of one 1,000-row metric batch, by table shape (${BATCHES} batches × 2 rounds each)\n`);
    console.log(
      table(
        ["table", "p50 ms per batch", "p99 ms", "µs per row (p50)", "rows/s on one connection (p50)", "ratio vs heap"],
        VARIANTS.map(([name], i) => {
          const s = stats(samples[i]);
          return [name, fmt(s.p50, 2), fmt(s.p99, 2), fmt(s.p50, 1), Math.round(1_000_000 / s.p50).toLocaleString("en-US"), fmt(s.p50 / base, 2)];
        }),
      ),
    );
    console.log(`\nMachine busy in the second before each round (%, 100 = one core): ${busy.map((b) => fmt(b, 0)).join(", ")}.`);
  } finally {
    await db.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
