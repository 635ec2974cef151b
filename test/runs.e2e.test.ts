import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, points, startRun, startTestOuro, type TestOuro } from "./helpers/ouro";

const LOG = `mutation($r: ID!, $p: [MetricInput!]!) { logMetrics(runId: $r, points: $p) { accepted duplicates cursor } }`;

describe("runs, params and metrics", () => {
  let t: TestOuro;
  let projectId: string;
  beforeAll(async () => {
    t = await startTestOuro({ label: "runs" });
    projectId = await createProject(t, "runs");
  });
  afterAll(() => t?.stop());

  it("stores a batch once: a resent batch is all duplicates", async () => {
    const runId = await startRun(t, projectId);
    const batch = points("loss", 0, 1000);
    const first = await t.gql(LOG, { r: runId, p: batch });
    expect(first.data.logMetrics).toMatchObject({ accepted: 1000, duplicates: 0 });
    const again = await t.gql(LOG, { r: runId, p: batch });
    expect(again.data.logMetrics).toMatchObject({ accepted: 0, duplicates: 1000, cursor: first.data.logMetrics.cursor });
    const [{ n }] = await t.app.db.query("SELECT count(*)::int AS n FROM metric_points WHERE run_id = $1", [runId]);
    expect(n).toBe(1000);
  });

  it("downsamples long series to the requested buckets, keeping min and max", async () => {
    const runId = await startRun(t, projectId);
    const batch = points("acc", 0, 5000);
    batch[1234].value = 42; // a spike that a plain mean would hide
    await t.gql(LOG, { r: runId, p: batch });
    await t.gql(LOG, { r: runId, p: points("lr", 0, 20) });
    const r = await t.gql(`query($r: ID!) { run(id: $r) { metrics(buckets: 100) { key total lastStep downsampled points { step value min max } } } }`, { r: runId });
    const byKey = Object.fromEntries(r.data.run.metrics.map((s: { key: string }) => [s.key, s]));
    expect(byKey.acc.total).toBe(5000);
    expect(byKey.acc.downsampled).toBe(true);
    expect(byKey.acc.points.length).toBeLessThanOrEqual(100);
    expect(Math.max(...byKey.acc.points.map((p: { max: number }) => p.max))).toBe(42);
    expect(byKey.lr.downsampled).toBe(false);
    expect(byKey.lr.points.map((p: { step: number }) => p.step)).toEqual(Array.from({ length: 20 }, (_, i) => i)); // in step order
    expect(byKey.acc.lastStep).toBe(4999);
  });

  it("downsamples a run logged after the table's statistics were gathered without a plan that runs for minutes", async () => {
    // Statistics that predate the run estimate it at one row. The old range-as-subquery plan
    // then re-ran the range per point and took past the 60 s statement timeout for 25,000.
    for (let i = 0; i < 3; i++) await t.gql(LOG, { r: await startRun(t, projectId), p: points("x", 0, 2000) });
    await t.app.db.query("ANALYZE metric_points");
    const runId = await startRun(t, projectId);
    for (let from = 0; from < 25_000; from += 10_000) await t.gql(LOG, { r: runId, p: points("x", from, Math.min(10_000, 25_000 - from)) });
    const started = performance.now();
    const r = await t.gql(`query($r: ID!) { run(id: $r) { metrics(keys: ["x"], buckets: 1) { total points { step value } } } }`, { r: runId });
    expect(r.errors).toBeUndefined();
    expect(r.data.run.metrics[0].total).toBe(25_000);
    expect(r.data.run.metrics[0].points).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(10_000);
  }, 90_000);

  it("rejects NaN-like, traversal and oversized keys, bad steps and oversized batches before writing anything", async () => {
    const runId = await startRun(t, projectId);
    const bad = [
      [{ key: "../../etc/passwd", value: 1, step: 0 }],
      [{ key: "x".repeat(10_000), value: 1, step: 0 }],
      [{ key: "ok", value: 1, step: -1 }],
      [{ key: "ok", value: 1, step: 1.5 }],
      [...points("ok", 0, 5), { key: "a/../b", value: 1, step: 9 }],
      points("big", 0, 10_001),
    ];
    for (const p of bad) {
      const r = await t.gql(LOG, { r: runId, p });
      expect(r.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    }
    // JSON cannot carry NaN or Infinity; GraphQL refuses the strings and huge literals too.
    const nan = await t.gql(LOG, { r: runId, p: [{ key: "ok", value: "NaN", step: 0 }] });
    expect(nan.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    const inf = await fetch(t.url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${t.adminToken}` },
      body: `{"query": ${JSON.stringify(LOG)}, "variables": {"r": "${runId}", "p": [{"key": "ok", "value": 1e999, "step": 0}]}}`,
    });
    expect(((await inf.json()) as any).errors[0].extensions.code).toBe("BAD_USER_INPUT");
    const [{ n }] = await t.app.db.query("SELECT count(*)::int AS n FROM metric_points WHERE run_id = $1", [runId]);
    expect(n).toBe(0);
  });

  it("keeps params write-once and rejects changes", async () => {
    const runId = await startRun(t, projectId);
    const LP = `mutation($r: ID!, $p: [ParamInput!]!) { logParams(runId: $r, params: $p) { key value } }`;
    const ok = await t.gql(LP, { r: runId, p: [{ key: "lr", value: "0.01" }, { key: "layers", value: "3" }] });
    expect(ok.data.logParams).toEqual([{ key: "layers", value: "3" }, { key: "lr", value: "0.01" }]);
    expect((await t.gql(LP, { r: runId, p: [{ key: "lr", value: "0.01" }] })).errors).toBeUndefined();
    const changed = await t.gql(LP, { r: runId, p: [{ key: "lr", value: "0.1" }, { key: "new", value: "1" }] });
    expect(changed.errors?.[0].extensions?.code).toBe("CONFLICT");
    const [{ n }] = await t.app.db.query("SELECT count(*)::int AS n FROM params WHERE run_id = $1", [runId]);
    expect(n).toBe(2); // "new" was not written either
  });

  it("finishes a run once; a finished run takes no more data", async () => {
    const runId = await startRun(t, projectId);
    const FIN = `mutation($r: ID!) { finishRun(runId: $r) { status finishedAt } }`;
    expect((await t.gql(FIN, { r: runId })).data.finishRun.status).toBe("finished");
    expect((await t.gql(FIN, { r: runId })).data.finishRun.status).toBe("finished");
    const late = await t.gql(LOG, { r: runId, p: points("loss", 0, 1) });
    expect(late.errors?.[0].extensions?.code).toBe("CONFLICT");
  });

  it("pages through runs with capped page sizes", async () => {
    const Q = `query($p: ID!, $first: Int, $after: Cursor) { runs(projectId: $p, first: $first, after: $after) { totalCount nodes { id } pageInfo { hasNextPage endCursor } } }`;
    const all = await t.gql(Q, { p: projectId, first: 100 });
    const total = all.data.runs.totalCount;
    expect(total).toBeGreaterThanOrEqual(5);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = await t.gql(Q, { p: projectId, first: 2, after });
      seen.push(...page.data.runs.nodes.map((n: { id: string }) => n.id));
      if (!page.data.runs.pageInfo.hasNextPage) break;
      after = page.data.runs.pageInfo.endCursor;
    }
    expect(seen).toEqual(all.data.runs.nodes.map((n: { id: string }) => n.id));
    for (const first of [0, 101, 10_000_000]) {
      expect((await t.gql(Q, { p: projectId, first })).errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    }
  });
});
