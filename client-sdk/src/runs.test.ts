import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestOuro, type TestOuro } from "../../test/helpers/ouro";
import { OuroApiError, OuroClient, type FetchLike, type MetricPoint } from "./index";
import { collect, eventually, killableWebSocket, recordingFetch } from "./testing/helpers";

// Series points sorted by step. (The server currently returns a series that is not
// downsampled in text order of its steps: 0, 1, 10, 100, … — see the SDK's report.)
const byStep = <P extends { step: number }>(points: P[]): P[] => [...points].sort((a, b) => a.step - b.step);

describe("runs through the SDK, on a real server", () => {
  let t: TestOuro;
  let client: OuroClient;
  let projectId: string;
  const clients: OuroClient[] = [];
  const newClient = (extra: Partial<ConstructorParameters<typeof OuroClient>[0]> = {}) => {
    const c = new OuroClient({ url: t.url, token: t.adminToken, runs: { heartbeatIntervalMs: 0 }, ...extra });
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    t = await startTestOuro({ label: "sdk-runs" });
    client = newClient();
    projectId = (await client.projects.create({ name: "sdk-runs" })).id;
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await t?.stop();
  });

  it("batches thousands of points into few requests, with automatic steps per key, and they all land", async () => {
    const recorder = recordingFetch();
    const c = newClient({ fetch: recorder.impl, runs: { batchSize: 1_000, flushIntervalMs: 60_000, heartbeatIntervalMs: 0 } });
    const run = await c.runs.start(projectId, "batching", { name: "batched", tags: { model: "mlp" } });
    expect(run.run).toMatchObject({ name: "batched", status: "running", tags: { model: "mlp" } });
    for (let i = 0; i < 5_000; i++) run.logMetric("loss", 1 / (i + 1)); // steps 0..4999
    for (let i = 0; i < 2_500; i++) run.logMetric("acc", i / 2_500, i * 2); // explicit steps
    run.logMetric("acc", 1); // after explicit step 4998 comes 4999
    await run.flush();

    const sent = recorder.of("LogMetrics").map((r) => (r.variables.points as unknown[]).length);
    expect(sent.reduce((a, b) => a + b, 0)).toBe(7_501);
    expect(sent.length).toBe(8); // 1,000 at a time, not one request per point
    expect(Math.max(...sent)).toBeLessThanOrEqual(1_000);
    expect(run.stats).toMatchObject({ logged: 7_501, accepted: 7_501, duplicates: 0, pending: 0, dropped: 0 });

    const details = await c.runs.get(run.id, { buckets: 10_000 });
    const series = Object.fromEntries(details.metrics.map((m) => [m.key, m]));
    expect(series.loss!.total).toBe(5_000);
    expect(byStep(series.loss!.points).map((p) => p.step)).toEqual(Array.from({ length: 5_000 }, (_, i) => i));
    expect(byStep(series.loss!.points)[9]!.value).toBeCloseTo(0.1);
    expect(series.acc!.total).toBe(2_501);
    expect(byStep(series.acc!.points).at(-1)).toMatchObject({ step: 4_999, value: 1 });

    const finished = await run.finish();
    expect(finished.status).toBe("finished");
    expect(() => run.logMetric("loss", 1)).toThrow(/finished/);
  });

  it("never sends more than 10,000 points in one request", async () => {
    const recorder = recordingFetch();
    const c = newClient({ fetch: recorder.impl, runs: { batchSize: 50_000, flushIntervalMs: 60_000, heartbeatIntervalMs: 0 } });
    const run = await c.runs.start(projectId, "batching");
    for (let i = 0; i < 25_000; i++) run.logMetric("x", i);
    await run.finish();
    expect(recorder.of("LogMetrics").map((r) => (r.variables.points as unknown[]).length)).toEqual([10_000, 10_000, 5_000]);
    expect((await c.runs.get(run.id, { keys: ["x"], buckets: 1 })).metrics[0]!.total).toBe(25_000);
  });

  it("sends queued points on its timer without an explicit flush", async () => {
    const c = newClient({ runs: { batchSize: 10_000, flushIntervalMs: 100, heartbeatIntervalMs: 0 } });
    const run = await c.runs.start(projectId, "timer");
    for (let i = 0; i < 10; i++) run.logMetric("loss", i);
    await eventually(async () => (await c.runs.get(run.id)).metrics[0]?.total === 10, "the timer flush");
    expect(run.stats.pending).toBe(0);
  });

  it("resends a batch whose answer was lost, and the server keeps each point once", async () => {
    let cut = 0;
    // The request reaches the server and is stored; then the connection "drops" before the answer arrives.
    const flaky: FetchLike = async (input, init) => {
      const res = await fetch(input, init);
      if (cut === 0 && String(init.body).includes("logMetrics")) {
        cut++;
        await res.text();
        throw new TypeError("fetch failed (simulated: connection reset after the server answered)");
      }
      return res;
    };
    const c = newClient({ fetch: flaky, runs: { batchSize: 1_000, flushIntervalMs: 60_000, heartbeatIntervalMs: 0 } });
    const run = await c.runs.start(projectId, "retry");
    for (let i = 0; i < 3_000; i++) run.logMetric("loss", i * 10);
    await run.flush();

    expect(cut).toBe(1);
    expect(run.stats).toMatchObject({ retries: 1, accepted: 2_000, duplicates: 1_000, pending: 0, dropped: 0 });
    const [loss] = (await c.runs.get(run.id, { buckets: 10_000 })).metrics;
    expect(loss!.total).toBe(3_000);
    expect(byStep(loss!.points).map((p) => [p.step, p.value])).toEqual(Array.from({ length: 3_000 }, (_, i) => [i, i * 10]));
  });

  it("streams metrics live and resumes across forced disconnects: every point exactly once, in order", async () => {
    const sockets = killableWebSocket();
    const reconnects: string[] = [];
    const consumer = newClient({ webSocketImpl: sockets.impl });
    const producer = newClient({ runs: { batchSize: 250, flushIntervalMs: 20, heartbeatIntervalMs: 0 } });
    const run = await producer.runs.start(projectId, "live");
    const TOTAL = 4_000;

    const stream = consumer.runs.metrics(run.id, { onReconnect: (err) => reconnects.push(err.message) });
    const producing = (async () => {
      for (let i = 0; i < TOTAL / 2; i++) {
        run.logMetrics({ loss: 1 / (i + 1), acc: i / TOTAL });
        if (i % 100 === 99) await new Promise((r) => setTimeout(r, 10));
      }
      await run.flush();
    })();
    let kills = 0;
    const received = await collect<MetricPoint>(stream, (items) => items.length >= TOTAL, 60_000, (_p, items) => {
      // Cut the connection twice while points are flowing.
      if ((items.length === 1_000 || items.length === 2_500) && sockets.killAll() > 0) kills++;
    });
    await producing;
    stream.close();

    const ids = received.map((p) => `${p.key}:${p.step}`);
    expect(new Set(ids).size).toBe(ids.length); // nothing twice
    expect(ids.length).toBe(TOTAL); // nothing missing
    for (const key of ["loss", "acc"]) {
      const steps = received.filter((p) => p.key === key).map((p) => p.step);
      expect(steps).toEqual(Array.from({ length: TOTAL / 2 }, (_, i) => i));
    }
    expect(kills).toBe(2);
    // Two kills close together may be healed by one reconnection (the second can land while
    // the first reconnect is still being set up); what matters is that none is missed above.
    expect(reconnects.length).toBeGreaterThanOrEqual(1);
    await run.finish();
  });

  it("a stream stopped early continues exactly where it stopped, from its cursor", async () => {
    const run = await client.runs.start(projectId, "cursor", { batchSize: 100 });
    for (let i = 0; i < 1_000; i++) run.logMetric("loss", i);
    await run.finish();

    const first = client.runs.metricBatches(run.id);
    const batches = await collect(first, (b) => b.reduce((n, x) => n + x.points.length, 0) >= 300);
    first.close();
    expect(first.cursor).toBe(batches.at(-1)!.cursor);
    const seen = batches.flatMap((b) => b.points.map((p) => p.step));

    const rest = client.runs.metrics(run.id, { after: first.cursor });
    const more = await collect(rest, (items) => seen.length + items.length >= 1_000, 15_000);
    rest.close();
    expect([...seen, ...more.map((p) => p.step)]).toEqual(Array.from({ length: 1_000 }, (_, i) => i));
  });

  it("filters the live stream by key", async () => {
    const run = await client.runs.start(projectId, "keys");
    for (let i = 0; i < 50; i++) run.logMetrics({ loss: i, acc: i });
    await run.finish();
    const stream = client.runs.metrics(run.id, { keys: ["acc"] });
    const got = await collect(stream, (items) => items.length >= 50, 10_000);
    // Nothing else arrives: wait briefly for a stray point.
    const extra = await collect(stream, () => false, 300);
    stream.close();
    expect(new Set([...got, ...extra].map((p) => p.key))).toEqual(new Set(["acc"]));
    expect(got.length + extra.length).toBe(50);
  });

  it("logs write-once params and reports a changed value as CONFLICT", async () => {
    const run = await client.runs.start(projectId, "params");
    expect(await run.logParams({ lr: 0.01, layers: 3, bn: true })).toEqual([
      { key: "bn", value: "true" },
      { key: "layers", value: "3" },
      { key: "lr", value: "0.01" },
    ]);
    await run.logParam("lr", 0.01); // same value again: fine
    const err = await run.logParam("lr", 0.02).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OuroApiError);
    expect((err as OuroApiError).code).toBe("CONFLICT");
    expect((await client.runs.get(run.id)).params).toContainEqual({ key: "lr", value: "0.01" });
  });

  it("rejects bad points at once instead of sinking a batch later", async () => {
    const run = await client.runs.start(projectId, "validation");
    expect(() => run.logMetric("loss", Number.NaN)).toThrow(RangeError);
    expect(() => run.logMetric("bad..key", 1)).toThrow(RangeError);
    expect(() => run.logMetric("loss", 1, -1)).toThrow(RangeError);
    expect(() => run.logMetric("loss", 1, 1.5)).toThrow(RangeError);
    expect(run.stats.logged).toBe(0);
  });

  it("reports points refused by the server (run finished elsewhere) on the next flush, and drops them", async () => {
    const run = await client.runs.start(projectId, "refused", { flushIntervalMs: 60_000 });
    await client.runs.finish(run.id, "killed");
    run.logMetric("loss", 1);
    const err = await run.flush().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OuroApiError);
    expect((err as OuroApiError).code).toBe("CONFLICT");
    expect(run.stats).toMatchObject({ dropped: 1, pending: 0 });
    await run.flush(); // reported once
  });

  it("lists runs and experiments", async () => {
    const page = await client.runs.list(projectId, { experiment: "params", first: 10 });
    expect(page.nodes.length).toBe(1);
    expect(page.totalCount).toBe(1);
    const experiments = await client.runs.experiments(projectId, { first: 100 });
    expect(experiments.nodes.map((e) => e.name)).toEqual(expect.arrayContaining(["batching", "retry", "live", "params"]));
  });

  it("in Node, sends queued points when the process is about to exit", async () => {
    // A script that logs and ends without flush() or finish(): the beforeExit hook must send them.
    const sdk = path.resolve(__dirname, "index.ts");
    const script = `
      const { OuroClient } = require(${JSON.stringify(sdk)});
      (async () => {
        const client = new OuroClient({ url: process.env.URL, token: process.env.TOKEN, runs: { flushIntervalMs: 600000, batchSize: 10000 } });
        const run = await client.runs.start(process.env.PROJECT, "exit-hook");
        for (let i = 0; i < 2500; i++) run.logMetric("loss", i);
        console.log("RUN " + run.id + " pending " + run.stats.pending);
      })();`;
    const child = spawn(process.execPath, ["-r", "@swc-node/register", "-e", script], {
      env: { ...process.env, URL: t.url, TOKEN: t.adminToken, PROJECT: projectId },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(out).toMatch(/RUN \S+ pending 2500/);
    expect(code).toBe(0);
    const runId = /RUN (\S+)/.exec(out)![1]!;
    expect((await client.runs.get(runId)).metrics[0]?.total).toBe(2_500);
  });

  it("throws a typed NOT_FOUND with the request id for a missing run, over HTTP and over the WebSocket", async () => {
    const missing = randomUUID();
    const err = await client.runs.get(missing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OuroApiError);
    const apiErr = err as OuroApiError;
    expect(apiErr.code).toBe("NOT_FOUND");
    expect(apiErr.message).toContain(missing);
    expect(apiErr.requestId).toMatch(/^[\w.-]{8,64}$/);
    expect(apiErr.retryable).toBe(false);
    expect(t.logs.join("")).not.toContain("internal error");

    const stream = client.runs.metrics(missing);
    const streamErr = await stream.next().catch((e: unknown) => e);
    expect(streamErr).toBeInstanceOf(OuroApiError);
    expect((streamErr as OuroApiError).code).toBe("NOT_FOUND");
    expect(await stream.next()).toEqual({ value: undefined, done: true });
  });
});
