import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JobRunner } from "../server/src/domains/jobs/job.runner";
import { enqueueJob } from "../server/src/domains/jobs/job.service";
import { createLogger } from "../server/src/platform/logger";
import type { TaskContext } from "../server/src/platform/tasks";
import { runInSubprocess } from "../server/src/platform/subprocess";
import { createProject, points, startRun, startTestOuro, take, type TestOuro } from "./helpers/ouro";
import { spawnOuro } from "./helpers/process";

const EXPORT = `mutation($r: ID!, $k: String) { exportRun(runId: $r, idempotencyKey: $k) { id status } }`;
const LOG = `mutation($r: ID!, $p: [MetricInput!]!) { logMetrics(runId: $r, points: $p) { accepted } }`;

async function waitForJob(t: TestOuro, jobId: string, until: (j: any) => boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [job] = await t.app.db.query("SELECT * FROM jobs WHERE id = $1", [jobId]);
    if (until(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} stuck: ${JSON.stringify(job)}`);
    await sleep(100);
  }
}

async function runWithPoints(t: TestOuro, projectId: string, n: number): Promise<string> {
  const runId = await startRun(t, projectId);
  for (let from = 0; from < n; from += 10_000) await t.gql(LOG, { r: runId, p: points("loss", from, Math.min(10_000, n - from)) });
  return runId;
}

describe("durable jobs", () => {
  let t: TestOuro;
  let projectId: string;
  const extraRunners: JobRunner[] = [];
  beforeAll(async () => {
    t = await startTestOuro({ label: "jobs", worker: true, env: { OURO_WORKER_LEASE_SECONDS: "3", OURO_JOB_MAX_ATTEMPTS: "3" } });
    projectId = await createProject(t, "jobs");
  });
  afterAll(async () => {
    for (const r of extraRunners) await r.stop();
    await t?.stop();
  });

  /** A worker with handlers of the test's own, on the same queue. */
  async function testRunner(handlers: Record<string, (ctx: TaskContext) => Promise<Record<string, unknown> | void>>) {
    const runner = new JobRunner({
      db: t.app.db,
      bus: t.app.bus,
      databaseUrl: t.databaseUrl,
      log: createLogger("silent"),
      handlers: handlers as never,
      concurrency: 2,
      leaseSeconds: 3,
    });
    await runner.start();
    extraRunners.push(runner);
    return runner;
  }
  const enqueue = (kind: string, maxAttempts = 3, idempotencyKey: string | null = null) =>
    t.app.db.transaction((tx) => enqueueJob(tx, { projectId, kind, maxAttempts, idempotencyKey })).then((r) => r.job);

  it("exports a run to one artifact, reporting progress live through jobUpdated", async () => {
    const runId = await runWithPoints(t, projectId, 25_000);
    const client = t.ws();
    const job = (await t.gql(EXPORT, { r: runId })).data.exportRun;
    const updates = await take<any>(client, `subscription($id: ID!) { jobUpdated(id: $id) { status progress attempt result } }`, { id: job.id }, 100, 20_000).then((r) => r.events.map((e) => e.jobUpdated));
    await client.dispose();
    const done = await waitForJob(t, job.id, (j) => j.status === "succeeded");
    expect(done.result.points).toBe(25_000);
    expect(updates.map((u) => u.status)).toContain("succeeded");
    const progress = updates.map((u) => u.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    const arts = await t.gql(`query($r: ID!) { run(id: $r) { artifacts { id sha256 byteSize kind } } }`, { r: runId });
    expect(arts.data.run.artifacts).toHaveLength(1);
    expect(arts.data.run.artifacts[0].id).toBe(done.result.artifactId);
    expect(await t.app.artifacts.has(arts.data.run.artifacts[0].sha256)).toBe(true);
  }, 60_000);

  it("returns the first job for a repeated idempotency key", async () => {
    const runId = await startRun(t, projectId);
    const a = (await t.gql(EXPORT, { r: runId, k: "nightly-1" })).data.exportRun;
    const b = (await t.gql(EXPORT, { r: runId, k: "nightly-1" })).data.exportRun;
    expect(b.id).toBe(a.id);
    const [{ n }] = await t.app.db.query("SELECT count(*)::int AS n FROM jobs WHERE idempotency_key = 'nightly-1'");
    expect(n).toBe(1);
  });

  it("cancels a queued job so it never runs, and says so for a finished one", async () => {
    const job = await enqueue("test.never-picked");
    const r = await t.gql(`mutation($id: ID!) { cancelJob(id: $id) { __typename ... on Job { status } } }`, { id: job.id });
    expect(r.data.cancelJob).toEqual({ __typename: "Job", status: "cancelled" });
    const [{ n }] = await t.app.db.query("SELECT count(*)::int AS n FROM graphile_worker.jobs WHERE key = $1", [job.id]);
    expect(n).toBe(0);
    const again = await t.gql(`mutation($id: ID!) { cancelJob(id: $id) { __typename ... on JobNotCancellable { message job { status } } } }`, { id: job.id });
    expect(again.data.cancelJob.__typename).toBe("JobNotCancellable");
    expect(again.data.cancelJob.job.status).toBe("cancelled");
  });

  it("cancels a running job promptly through its abort signal", async () => {
    let sawAbort = false;
    await testRunner({
      "test.wait": async (ctx) => {
        await ctx.progress(0.1, "waiting");
        await new Promise<void>((resolve) => ctx.signal.addEventListener("abort", () => resolve()));
        sawAbort = true;
        throw ctx.signal.reason;
      },
    });
    const job = await enqueue("test.wait");
    await waitForJob(t, job.id, (j) => j.status === "running");
    const started = Date.now();
    await t.gql(`mutation($id: ID!) { cancelJob(id: $id) { __typename } }`, { id: job.id });
    await waitForJob(t, job.id, () => sawAbort, 5000);
    expect(Date.now() - started).toBeLessThan(5000);
    await sleep(300);
    const [row] = await t.app.db.query("SELECT status FROM jobs WHERE id = $1", [job.id]);
    expect(row.status).toBe("cancelled");
  });

  it("retries an always-failing handler with backoff, then fails it, without stalling the queue", async () => {
    let tries = 0;
    await testRunner({
      "test.fail": async () => {
        tries++;
        throw new Error("boom");
      },
      "test.ok": async () => ({ fine: true }),
    });
    const bad = await enqueue("test.fail", 2);
    const good = await enqueue("test.ok");
    expect((await waitForJob(t, good.id, (j) => j.status === "succeeded", 5000)).result).toEqual({ fine: true });
    const failed = await waitForJob(t, bad.id, (j) => j.status === "failed", 30_000);
    expect(tries).toBe(2);
    expect(failed.error).toBe("boom");
    const logs = await t.app.db.query("SELECT message FROM job_logs WHERE job_id = $1 ORDER BY seq", [bad.id]);
    expect(logs.map((l: { message: string }) => l.message)).toEqual(["try 1 failed: boom", "try 2 failed: boom"]);
  }, 40_000);

  it("drops the result of a try that another worker has since taken over", async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    await testRunner({
      "test.gated": async () => {
        await gate;
        return { from: "stale try" };
      },
    });
    const job = await enqueue("test.gated");
    await waitForJob(t, job.id, (j) => j.status === "running");
    // As if the job had been handed to a newer try elsewhere:
    await t.app.db.query("UPDATE jobs SET attempt = attempt + 1, worker_id = 'someone-else' WHERE id = $1", [job.id]);
    release();
    await sleep(500);
    const [row] = await t.app.db.query("SELECT status, result, worker_id FROM jobs WHERE id = $1", [job.id]);
    expect(row).toEqual({ status: "running", result: null, worker_id: "someone-else" });
  });

  it("re-runs a job whose worker was SIGKILLed, and ends with exactly one artifact", async () => {
    const runId = await runWithPoints(t, projectId, 60_000);
    // The in-process worker must not take this one first: pause it by stopping and restarting after.
    await t.worker!.stop();
    const doomed = spawnOuro(["worker"], {
      DATABASE_URL: t.databaseUrl,
      OURO_DATA_DIR: t.app.config.dataDir,
      OURO_ARTIFACT_DIR: t.app.config.artifactDir,
      OURO_FAULT_SLOW_TASK_MS: "400",
      OURO_WORKER_LEASE_SECONDS: "3",
    });
    await doomed.waitFor(/worker started/);
    const job = (await t.gql(EXPORT, { r: runId })).data.exportRun;
    await waitForJob(t, job.id, (j) => j.status === "running" && j.progress > 0);
    doomed.child.kill("SIGKILL");
    await doomed.exited;
    const killedAt = Date.now();

    const rescuer = await testRunner({}); // sweeps dead workers; has no export handler itself
    void rescuer;
    const requeued = await waitForJob(t, job.id, (j) => j.status === "queued" && j.worker_id === null, 15_000);
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    expect(requeued.error).toContain("stopped responding");

    const survivor = spawnOuro(["worker"], { DATABASE_URL: t.databaseUrl, OURO_ARTIFACT_DIR: t.app.config.artifactDir, OURO_WORKER_LEASE_SECONDS: "3" });
    try {
      const done = await waitForJob(t, job.id, (j) => j.status === "succeeded", 30_000).catch(async (e) => {
        console.log("DEBUG survivor", survivor.output().slice(-3000));
        console.log("DEBUG queue", JSON.stringify(await t.app.db.query("SELECT * FROM graphile_worker._private_jobs")));
        throw e;
      });
      expect(done.attempt).toBe(2);
      expect(done.result.points).toBe(60_000);
      const arts = await t.app.db.query("SELECT id FROM artifacts WHERE run_id = $1", [runId]);
      expect(arts).toHaveLength(1);
      const logs = await t.app.db.query("SELECT message FROM job_logs WHERE job_id = $1", [job.id]);
      expect(logs.map((l: { message: string }) => l.message)).toContain("worker lost; job returned to the queue");
    } finally {
      survivor.child.kill("SIGTERM");
      await survivor.exited;
    }
  }, 90_000);

  it("drains on SIGTERM: the running job finishes before the worker exits", async () => {
    const runId = await runWithPoints(t, projectId, 30_000);
    const worker = spawnOuro(["worker"], { DATABASE_URL: t.databaseUrl, OURO_ARTIFACT_DIR: t.app.config.artifactDir, OURO_FAULT_SLOW_TASK_MS: "300" });
    await worker.waitFor(/worker started/);
    const job = (await t.gql(EXPORT, { r: runId })).data.exportRun;
    await waitForJob(t, job.id, (j) => j.status === "running" && j.worker_id !== null);
    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    const [row] = await t.app.db.query("SELECT status FROM jobs WHERE id = $1", [job.id]);
    expect(row.status).toBe("succeeded");
  }, 60_000);
});

describe("CPU-bound work", () => {
  it("runs in a child process: the worker keeps heartbeating and cancelling kills it", async () => {
    const t = await startTestOuro({ label: "cpu", env: { OURO_WORKER_LEASE_SECONDS: "2" } });
    const projectId = await createProject(t, "cpu");
    const pids: number[] = [];
    const runner = new JobRunner({
      db: t.app.db,
      bus: t.app.bus,
      databaseUrl: t.databaseUrl,
      log: createLogger("silent"),
      concurrency: 1,
      leaseSeconds: 2,
      handlers: {
        "test.primes": (async (ctx: TaskContext<{ limit: number }>) => {
          const count = await runInSubprocess<{ limit: number }, number>(path.join(__dirname, "fixtures/cpu-task.ts"), "countPrimes", ctx.payload, {
            signal: ctx.signal,
            onProgress: (f) => void ctx.progress(f),
            onSpawn: (pid) => pids.push(pid),
          });
          return { count };
        }) as never,
      },
    });
    await runner.start();
    try {
      const enqueue = (limit: number) =>
        t.app.db.transaction((tx) => enqueueJob(tx, { projectId, kind: "test.primes", payload: { limit }, maxAttempts: 1 })).then((r) => r.job);
      const small = await enqueue(100_000);
      expect((await waitForJob(t, small.id, (j) => j.status === "succeeded")).result).toEqual({ count: 9592 });

      // Long enough to span several heartbeats (lease 2 s, beat every 0.5 s).
      const big = await enqueue(60_000_000);
      await waitForJob(t, big.id, (j) => j.status === "running");
      const beats: number[] = [];
      for (let i = 0; i < 6; i++) {
        await sleep(500);
        const [w] = await t.app.db.query("SELECT extract(epoch FROM now() - heartbeat_at) AS age FROM worker_processes WHERE id = $1", [runner.processId]);
        beats.push(Number(w.age));
      }
      expect(Math.max(...beats)).toBeLessThan(2); // never as old as the lease: not taken for dead
      await t.gql(`mutation($id: ID!) { cancelJob(id: $id) { __typename } }`, { id: big.id });
      const [row] = await t.app.db.query("SELECT status FROM jobs WHERE id = $1", [big.id]);
      expect(row.status).toBe("cancelled");
      await sleep(300);
      expect(pids).toHaveLength(2);
      expect(() => process.kill(pids[1], 0)).toThrow(); // the CPU-bound process was killed, not left running
    } finally {
      await runner.stop();
      await t.stop();
    }
  }, 60_000);
});
