import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestOuro, type TestOuro } from "../../test/helpers/ouro";
import { OuroClient, type Job } from "./index";

describe("jobs through the SDK, on a real server with a worker", () => {
  let t: TestOuro;
  let client: OuroClient;
  let projectId: string;

  beforeAll(async () => {
    t = await startTestOuro({ label: "sdk-jobs", worker: true });
    client = new OuroClient({ url: t.url, token: t.adminToken, runs: { heartbeatIntervalMs: 0 } });
    projectId = (await client.projects.create({ name: "sdk-jobs" })).id;
  });
  afterAll(async () => {
    await client?.close();
    await t?.stop();
  });

  it("exports a run and waits for the job, reporting progress on the way", async () => {
    const run = await client.runs.start(projectId, "export", { batchSize: 10_000 });
    await run.logParams({ lr: 0.1 });
    for (let i = 0; i < 12_000; i++) run.logMetric("loss", 1 / (i + 1));
    await run.finish();

    const job = await client.runs.export(run.id);
    expect(job.kind).toMatch(/export/);
    const seen: Job[] = [];
    const done = await client.jobs.wait(job.id, { onProgress: (j) => seen.push(j) });

    expect(done).toMatchObject({ id: job.id, status: "succeeded", progress: 1 });
    expect(done.result).toMatchObject({ points: 12_000 });
    expect(seen.at(-1)).toEqual(done);
    const progress = seen.map((j) => j.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    const cursors = seen.map((j) => BigInt(j.cursor));
    expect(new Set(cursors).size).toBe(cursors.length); // each state once

    const details = await client.runs.get(run.id);
    expect(details.artifacts.map((a) => a.id)).toEqual([done.result!.artifactId]);
    const withLogs = await client.jobs.get(job.id);
    expect(withLogs.status).toBe("succeeded");
    expect(Array.isArray(withLogs.logs)).toBe(true);

    // Waiting for a job that has already finished answers at once; cancelling it is refused.
    expect((await client.jobs.wait(job.id)).status).toBe("succeeded");
    const cancel = await client.jobs.cancel(job.id);
    expect(cancel).toMatchObject({ cancelled: false, job: { id: job.id, status: "succeeded" } });

    const page = await client.jobs.list(projectId, { kind: job.kind });
    expect(page.nodes.map((j) => j.id)).toContain(job.id);
  });

  it("watch() yields the job's states and ends after the last", async () => {
    const run = await client.runs.start(projectId, "watch");
    run.logMetric("x", 1);
    await run.finish();
    const job = await client.runs.export(run.id);
    const states: string[] = [];
    for await (const j of client.jobs.watch(job.id)) states.push(j.status);
    expect(states.at(-1)).toBe("succeeded");
    expect(states.filter((s) => s === "succeeded")).toHaveLength(1);
  });
});
