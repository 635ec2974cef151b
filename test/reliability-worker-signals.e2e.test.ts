import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, points, startRun, startTestOuro, type TestOuro } from "./helpers/ouro";
import { spawnOuro } from "./helpers/process";

// RELIABILITY.md case 22: the first SIGTERM drains a worker (tested in jobs.e2e.test.ts); a
// second SIGTERM exits at once, and the job it was running is retried elsewhere and ends with
// exactly one artifact.

const EXPORT = `mutation($r: ID!) { exportRun(runId: $r) { id } }`;
const LOG = `mutation($r: ID!, $p: [MetricInput!]!) { logMetrics(runId: $r, points: $p) { accepted } }`;

describe("a worker told twice to stop", () => {
  let t: TestOuro;
  let projectId: string;
  beforeAll(async () => {
    t = await startTestOuro({ label: "rel-sigterm" }); // no in-process worker: only the spawned ones take jobs
    projectId = await createProject(t, "sigterm");
  });
  afterAll(() => t?.stop());

  const job = async (id: string) => (await t.app.db.query("SELECT status, attempt, worker_id, progress, result, error FROM jobs WHERE id = $1", [id]))[0];
  async function until(id: string, check: (j: any) => boolean, timeoutMs: number) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const j = await job(id);
      if (check(j)) return j;
      if (Date.now() > deadline) throw new Error(`job ${id} stuck: ${JSON.stringify(j)}`);
      await sleep(100);
    }
  }

  it("exits at once on the second SIGTERM; the interrupted job is re-run by another worker, with one artifact", async () => {
    const runId = await startRun(t, projectId);
    for (let from = 0; from < 40_000; from += 10_000) await t.gql(LOG, { r: runId, p: points("loss", from, 10_000) });
    const env = { DATABASE_URL: t.databaseUrl, OURO_ARTIFACT_DIR: t.app.config.artifactDir, OURO_WORKER_LEASE_SECONDS: "3", OURO_SHUTDOWN_GRACE_SECONDS: "60" };
    // Each export chunk sleeps 500 ms, so the job is still running when the signals come.
    const doomed = spawnOuro(["worker"], { ...env, OURO_FAULT_SLOW_TASK_MS: "500" });
    await doomed.waitFor(/worker started/);
    const jobId = (await t.gql(EXPORT, { r: runId })).data.exportRun.id;
    await until(jobId, (j) => j.status === "running" && j.progress > 0, 30_000);

    doomed.child.kill("SIGTERM");
    await doomed.waitFor(/draining/);
    doomed.child.kill("SIGTERM");
    expect(await doomed.exited).toBe(1);
    expect(doomed.output()).toMatch(/second signal: exiting now/);
    const interrupted = await job(jobId);
    expect(interrupted.status).toBe("running"); // it did not get to finish
    expect(await t.app.db.query("SELECT id FROM artifacts WHERE run_id = $1", [runId])).toHaveLength(0);

    const survivor = spawnOuro(["worker"], env);
    try {
      const done = await until(jobId, (j) => j.status === "succeeded" || j.status === "failed", 60_000);
      expect(done.status).toBe("succeeded");
      expect(done.attempt).toBe(2);
      expect(done.result.points).toBe(40_000);
      expect(await t.app.db.query("SELECT id FROM artifacts WHERE run_id = $1", [runId])).toHaveLength(1);
    } finally {
      survivor.child.kill("SIGTERM");
      await survivor.exited;
    }
  }, 120_000);
});
