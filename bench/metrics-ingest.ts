/**
 * Metric ingest: throughput of logMetrics over HTTP GraphQL, and the delay from logging a
 * batch to each live runMetrics subscriber receiving it.
 *
 *   node -r @swc-node/register bench/metrics-ingest.ts [--batches=200] [--latency-batches=200]
 *
 * Throughput baseline, same run and same database: the rows logMetrics writes, inserted with
 * a plain `pg` client in the same unnest INSERT (no auth, no lock, no NOTIFY, no GraphQL).
 * Latency baseline: the logMetrics request's own round trip, so the ratio says how much
 * later than the writer's own answer a subscriber hears of its points.
 */
import os from "node:os";
import pg from "pg";
import { arg, type BenchDatabase, type BenchServer, fmt, int, newRun, Q, sleep, stats, table, withServer } from "./lib";
import { waitForQuiet, withCpu } from "./cpu";

const BATCHES = arg("batches", 200);
const BATCH_SIZE = 1000;
const CLIENTS = 4;
const LAT_BATCHES = arg("latency-batches", 200);
const LAT_POINTS = 100;
const LAT_RATE = 20; // batches per second, steady: a training loop, not a flood
const SUBS_PER_CONNECTION = 25; // the server allows 100 operations per socket by default

interface Point { key: string; step: number; value: number }

/** Batch `b`: 10 series × 100 steps, as a training loop logging 10 metrics would. */
function batchPoints(b: number): Point[] {
  const per = BATCH_SIZE / 10;
  const out: Point[] = [];
  for (let k = 0; k < 10; k++) for (let j = 0; j < per; j++) out.push({ key: `m${k}`, step: b * per + j, value: Math.sin(b + j + k) });
  return out;
}

/** One writer: `batches` sequential logMetrics calls; returns per-request latencies (ms). */
async function graphqlWriter(server: BenchServer, runId: string, batches: number): Promise<number[]> {
  const rtts: number[] = [];
  for (let b = 0; b < batches; b++) {
    const t0 = performance.now();
    const res = await server.gql<{ logMetrics: { accepted: number } }>(Q.logMetrics, { r: runId, p: batchPoints(b) });
    rtts.push(performance.now() - t0);
    if (res.logMetrics.accepted !== BATCH_SIZE) throw new Error(`batch ${b}: accepted ${res.logMetrics.accepted}`);
  }
  return rtts;
}

/** The baseline writer: the same rows, the same INSERT, straight into PostgreSQL. */
async function rawWriter(databaseUrl: string, runId: string, batches: number): Promise<number[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const rtts: number[] = [];
  try {
    for (let b = 0; b < batches; b++) {
      const points = batchPoints(b);
      const now = new Date().toISOString();
      const t0 = performance.now();
      const res = await client.query(
        `INSERT INTO metric_points (run_id, key, step, value, recorded_at)
         SELECT $1, k, s, v, t FROM unnest($2::text[], $3::bigint[], $4::float8[], $5::timestamptz[]) AS u(k, s, v, t)
         ON CONFLICT (run_id, key, step) DO NOTHING`,
        [runId, points.map((p) => p.key), points.map((p) => p.step), points.map((p) => p.value), points.map(() => now)],
      );
      rtts.push(performance.now() - t0);
      if (res.rowCount !== BATCH_SIZE) throw new Error(`raw batch ${b}: inserted ${res.rowCount}`);
    }
  } finally {
    await client.end();
  }
  return rtts;
}

/** Runs `clients` writers at once, each on a run of its own; points per second overall. */
async function throughput(server: BenchServer, db: BenchDatabase, projectId: string, clients: number, write: (runId: string) => Promise<number[]>) {
  const runs = await Promise.all(Array.from({ length: clients }, () => newRun(server, projectId)));
  const background = await waitForQuiet();
  const measured = await withCpu(server.pid, db, async () => {
    const t0 = performance.now();
    const rtts = (await Promise.all(runs.map(write))).flat();
    const seconds = (performance.now() - t0) / 1000;
    return { pointsPerSecond: (clients * BATCHES * BATCH_SIZE) / seconds, seconds, rtt: stats(rtts) };
  });
  return { ...measured, background };
}

/** `subscribers` live runMetrics subscriptions on one run; delay from send to arrival per batch. */
async function deliveryLatency(server: BenchServer, db: BenchDatabase, projectId: string, subscribers: number) {
  const runId = await newRun(server, projectId);
  const sentAt: number[] = [];
  const delays: number[] = [];
  const received = new Array<number>(subscribers).fill(0);
  const connections = Array.from({ length: Math.ceil(subscribers / SUBS_PER_CONNECTION) }, () => server.ws());
  const errors: unknown[] = [];
  const disposers = Array.from({ length: subscribers }, (_, i) =>
    connections[Math.floor(i / SUBS_PER_CONNECTION)].subscribe<{ runMetrics: { points: { step: number }[] } }>(
      { query: `subscription($r: ID!) { runMetrics(runId: $r) { cursor points { key step value timestamp } } }`, variables: { r: runId } },
      {
        next: (msg) => {
          const now = performance.now();
          const points = msg.data?.runMetrics.points ?? [];
          received[i] += points.length;
          // One event may carry several batches (the server coalesces); each counts once.
          for (const b of new Set(points.map((p) => Math.floor(p.step / LAT_POINTS)))) if (b > 0) delays.push(now - sentAt[b]);
        },
        error: (e) => errors.push(e),
        complete: () => undefined,
      },
    ),
  );
  const send = async (b: number) => {
    const points = Array.from({ length: LAT_POINTS }, (_, j) => ({ key: "lat", step: b * LAT_POINTS + j, value: j }));
    sentAt[b] = performance.now();
    await server.gql(Q.logMetrics, { r: runId, p: points });
    return performance.now() - sentAt[b];
  };
  // Batch 0 is the warm-up: measuring starts once every subscriber is live and has it.
  await send(0);
  const allHave = async (n: number, timeoutMs: number) => {
    for (const end = performance.now() + timeoutMs; performance.now() < end && received.some((r) => r < n); ) await sleep(5);
  };
  await allHave(LAT_POINTS, 30_000);
  if (received.some((r) => r < LAT_POINTS)) throw new Error(`subscribers not live: ${JSON.stringify(errors)}`);
  const rtts: number[] = [];
  const background = await waitForQuiet();
  const cpu = await withCpu(server.pid, db, async () => {
    const start = performance.now();
    for (let b = 1; b <= LAT_BATCHES; b++) {
      await sleep(Math.max(0, start + ((b - 1) * 1000) / LAT_RATE - performance.now()));
      rtts.push(await send(b));
    }
    // Sends wait for each answer, so a slow server also lowers the rate it is offered.
    const rate = LAT_BATCHES / ((performance.now() - start) / 1000);
    await allHave((LAT_BATCHES + 1) * LAT_POINTS, 30_000);
    return { rate };
  });
  const missing = received.reduce((s, r) => s + ((LAT_BATCHES + 1) * LAT_POINTS - r), 0);
  for (const dispose of disposers) dispose();
  await Promise.all(connections.map((c) => c.dispose()));
  return { subscribers, connections: connections.length, delay: stats(delays), rtt: stats(rtts), missing, errors: errors.length, ...cpu, background };
}

async function main() {
  await withServer({}, async (server, db) => {
    const projectId = (await server.gql<{ createProject: { id: string } }>(Q.createProject, { n: "bench" })).createProject.id;
    // Warm-up: JIT, connection pools and plan caches on both paths.
    await graphqlWriter(server, await newRun(server, projectId), 20);
    await rawWriter(db.url, await newRun(server, projectId), 20);

    const rows: (string | number)[][] = [];
    for (const clients of [1, CLIENTS]) {
      const raw = await throughput(server, db, projectId, clients, (r) => rawWriter(db.url, r, BATCHES));
      const gql = await throughput(server, db, projectId, clients, (r) => graphqlWriter(server, r, BATCHES));
      for (const [name, r] of [["raw SQL insert (baseline)", raw], ["logMetrics over HTTP GraphQL", gql]] as const) {
        rows.push([name, clients, int(r.pointsPerSecond), fmt(r.seconds, 2), fmt(r.rtt.p50), fmt(r.rtt.p99), fmt(r.serverCpu, 0), fmt(r.pgCpu, 0), fmt(r.benchCpu, 0), fmt(r.machineCpu, 0), fmt(r.background, 0), name.startsWith("raw") ? "1.00" : fmt(gql.pointsPerSecond / raw.pointsPerSecond, 2)]);
      }
    }
    console.log(`\n### Metric ingest throughput (${BATCHES} batches × ${BATCH_SIZE} points per client, each client its own run)\n`);
    console.log(table(["path", "clients", "points/s", "seconds", "batch p50 ms", "batch p99 ms", "server CPU %", "PostgreSQL CPU %", "bench CPU %", "machine CPU %", "machine busy before %", "ratio vs raw"], rows));

    const lat: (string | number)[][] = [];
    for (const n of [1, 10, 100]) {
      const r = await deliveryLatency(server, db, projectId, n);
      lat.push([n, r.connections, fmt(r.rate), r.delay.n, fmt(r.delay.p50), fmt(r.delay.p99), fmt(r.delay.max), fmt(r.rtt.p50), fmt(r.delay.p50 / r.rtt.p50, 2), fmt(r.serverCpu, 0), fmt(r.pgCpu, 0), fmt(r.benchCpu, 0), fmt(r.machineCpu, 0), fmt(r.background, 0), r.missing, r.errors]);
    }
    console.log(`\n### logMetrics → runMetrics subscriber latency (${LAT_BATCHES} batches × ${LAT_POINTS} points, paced at up to ${LAT_RATE}/s)\n`);
    console.log(table(["subscribers", "WS connections", "batches/s sent", "deliveries", "p50 ms", "p99 ms", "max ms", "logMetrics RTT p50 ms (baseline)", "p50 ratio vs RTT", "server CPU %", "PostgreSQL CPU %", "bench CPU %", "machine CPU %", "machine busy before %", "points missing", "errors"], lat));
    console.log(`\nCPU: 100% = one core; the machine has ${os.cpus().length}. "machine busy before": the second before the phase; other work was running if it is high.`);
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
