/**
 * Job dispatch: how long from a client sending a mutation that starts a job to the worker's
 * handler starting it. The job is `exportRun` of a tiny run, so the handler itself is short.
 *
 *   node -r @swc-node/register bench/job-dispatch.ts [--jobs=200]
 *
 * Jobs run one after another (each waits for the previous to succeed), so this is dispatch
 * latency on an idle queue, not throughput. "Handler start" is `jobs.started_at`, written by
 * PostgreSQL's clock when the worker claims the job; the send time is this process's clock.
 * Both are the same machine clock; the offset between them is measured and printed.
 * Baseline, same run: the round trip of a trivial query, `{ viewer { id } }`.
 */
import pg from "pg";
import { arg, type BenchDatabase, type BenchServer, fmt, newRun, Q, stats, table, wallMs, withServer } from "./lib";
import { waitForQuiet } from "./cpu";

const JOBS = arg("jobs", 200);
const WARMUP = 10;

/** PostgreSQL clock minus this process's clock (ms), from the fastest of 20 round trips. */
async function clockOffset(databaseUrl: string): Promise<{ offset: number; rtt: number }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let best = { offset: 0, rtt: Infinity };
  for (let i = 0; i < 20; i++) {
    const t0 = wallMs();
    const { rows } = await client.query<{ ms: string }>("SELECT (extract(epoch FROM clock_timestamp()) * 1000)::text AS ms");
    const t1 = wallMs();
    if (t1 - t0 < best.rtt) best = { offset: Number(rows[0].ms) - (t0 + t1) / 2, rtt: t1 - t0 };
  }
  await client.end();
  return best;
}

/** Sends exportRun, then follows the job until it ends; returns the client-side timings. */
async function oneJob(server: BenchServer, ws: ReturnType<BenchServer["ws"]>, runId: string) {
  const sentAt = wallMs();
  const { exportRun } = await server.gql<{ exportRun: { id: string } }>(`mutation($r: ID!) { exportRun(runId: $r) { id } }`, { r: runId });
  const answeredAt = wallMs();
  const status = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`job ${exportRun.id} did not end in 30 s`)), 30_000);
    const dispose = ws.subscribe<{ jobUpdated: { status: string } }>(
      { query: `subscription($id: ID!) { jobUpdated(id: $id) { status progress } }`, variables: { id: exportRun.id } },
      {
        next: (msg) => {
          const s = msg.data?.jobUpdated.status;
          if (s === "succeeded" || s === "failed" || s === "cancelled") {
            clearTimeout(timer);
            dispose();
            resolve(s);
          }
        },
        error: (e) => {
          clearTimeout(timer);
          reject(e instanceof Error ? e : new Error(JSON.stringify(e)));
        },
        complete: () => undefined,
      },
    );
  });
  if (status !== "succeeded") throw new Error(`job ${exportRun.id} ${status}`);
  return { id: exportRun.id, sentAt, answeredAt, doneSeenAt: wallMs() };
}

/** Mean queue latency as the worker itself records it (Prometheus histogram on /metrics). */
async function workerQueueLatencyMs(server: BenchServer): Promise<{ mean: number; count: number }> {
  const res = await fetch(server.url.replace(/\/graphql$/, "/metrics"), { headers: { authorization: `Bearer ${server.token}` } });
  const text = await res.text();
  const value = (name: string) => Number(/\s(\S+)$/.exec(text.split("\n").find((l) => l.startsWith(name)) ?? " NaN")?.[1]);
  const sum = value("ouro_job_queue_latency_seconds_sum");
  const count = value("ouro_job_queue_latency_seconds_count");
  return { mean: (sum / count) * 1000, count };
}

async function main() {
  await withServer({ worker: true }, async (server, db) => {
    const ws = server.ws();
    try {
      await measure(server, db, ws);
    } finally {
      await ws.dispose();
    }
  });
}

async function measure(server: BenchServer, db: BenchDatabase, ws: ReturnType<BenchServer["ws"]>) {
  const projectId = (await server.gql<{ createProject: { id: string } }>(Q.createProject, { n: "bench" })).createProject.id;
  const runId = await newRun(server, projectId);
  await server.gql(Q.logMetrics, { r: runId, p: Array.from({ length: 10 }, (_, i) => ({ key: "loss", step: i, value: 1 / (i + 1) })) });

  // Baseline: a trivial authenticated query (auth, parse, validate, one row), warmed up.
  const backgroundBaseline = await waitForQuiet();
  const viewer: number[] = [];
  for (let i = 0; i < JOBS + WARMUP; i++) {
    const t0 = wallMs();
    await server.gql(`{ viewer { id } }`);
    if (i >= WARMUP) viewer.push(wallMs() - t0);
  }

  for (let i = 0; i < WARMUP; i++) await oneJob(server, ws, runId);
  const { offset, rtt } = await clockOffset(db.url);
  const backgroundJobs = await waitForQuiet();
  const jobs: Awaited<ReturnType<typeof oneJob>>[] = [];
  for (let i = 0; i < JOBS; i++) jobs.push(await oneJob(server, ws, runId));

  const pgc = new pg.Client({ connectionString: db.url });
  await pgc.connect();
  const { rows } = await pgc.query<{ id: string; created: number; started: number; finished: number }>(
    `SELECT id, extract(epoch FROM created_at) * 1000 AS created, extract(epoch FROM started_at) * 1000 AS started,
            extract(epoch FROM finished_at) * 1000 AS finished FROM jobs WHERE id = ANY($1)`,
    [jobs.map((j) => j.id)],
  );
  await pgc.end();
  const byId = new Map(rows.map((r) => [r.id, r]));
  const col = (f: (j: (typeof jobs)[number], r: (typeof rows)[number]) => number) => stats(jobs.map((j) => f(j, byId.get(j.id)!)));
  const baseline = stats(viewer);
  const lines: [string, ReturnType<typeof stats>][] = [
    ["`{ viewer { id } }` round trip (baseline)", baseline],
    ["exportRun mutation round trip (enqueue)", col((j) => j.answeredAt - j.sentAt)],
    ["**send → handler start** (`jobs.started_at`)", col((j, r) => Number(r.started) - j.sentAt)],
    ["queue → handler start, DB clock (`created_at` → `started_at`)", col((_j, r) => Number(r.started) - Number(r.created))],
    ["handler start → finish (`finished_at`)", col((_j, r) => Number(r.finished) - Number(r.started))],
    ["send → client sees `succeeded` (jobUpdated)", col((j) => j.doneSeenAt - j.sentAt)],
  ];
  const worker = await workerQueueLatencyMs(server);
  console.log(`\n### Job dispatch (${JOBS} sequential exportRun jobs on a 10-point run, worker in the server process)\n`);
  console.log(table(["measure", "n", "p50 ms", "p99 ms", "max ms", "p50 ratio vs baseline"], lines.map(([name, s]) => [name, s.n, fmt(s.p50), fmt(s.p99), fmt(s.max), fmt(s.p50 / baseline.p50, 2)])));
  console.log(`\nWorker-observed queue latency (ouro_job_queue_latency_seconds, ${worker.count} tries incl. warm-up): mean ${fmt(worker.mean)} ms.`);
  console.log(`PostgreSQL clock − bench clock: ${fmt(offset, 2)} ms (±${fmt(rtt / 2, 2)} ms); send → start figures are not corrected for it.`);
  console.log(`Machine busy in the second before: baseline ${fmt(backgroundBaseline, 0)}%, jobs ${fmt(backgroundJobs, 0)}% (100% = one core).`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
