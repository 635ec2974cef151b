import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, points, startRun, startTestOuro, take, type TestOuro } from "./helpers/ouro";
import { spawnOuro, type OuroProcess } from "./helpers/process";

const SUB = `subscription($r: ID!, $after: Cursor) { runMetrics(runId: $r, after: $after) { cursor points { key step value } } }`;
const LOG = `mutation($r: ID!, $p: [MetricInput!]!) { logMetrics(runId: $r, points: $p) { accepted } }`;

interface Batch {
  runMetrics: { cursor: string; points: { key: string; step: number; value: number }[] };
}

describe("resumable live subscriptions", () => {
  let t: TestOuro;
  let other: OuroProcess;
  let otherUrl: string;
  let projectId: string;
  beforeAll(async () => {
    t = await startTestOuro({ label: "subs" });
    projectId = await createProject(t, "live");
    // A second server, in its own process, on the same database: events cross via LISTEN/NOTIFY.
    other = spawnOuro(["start", "--no-worker"], { DATABASE_URL: t.databaseUrl, OURO_DATA_DIR: `/tmp/ouro-subs-${process.pid}` });
    otherUrl = (await other.waitFor(/Ouro is ready at (\S+)/))[1];
  });
  afterAll(async () => {
    other?.child.kill("SIGTERM");
    await other?.exited;
    await t?.stop();
  });

  const logVia = async (url: string, runId: string, batch: ReturnType<typeof points>) => {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${t.adminToken}` },
      body: JSON.stringify({ query: LOG, variables: { r: runId, p: batch } }),
    });
    const body = (await res.json()) as any;
    if (body.errors) throw new Error(JSON.stringify(body.errors));
  };

  it("a subscriber dropped mid-stream and resumed with its cursor receives every point exactly once, across processes", async () => {
    const runId = await startRun(t, projectId);
    const BATCHES = 30;
    const PER = 200;
    const received: string[] = [];
    let cursor: string | null = null;

    // Subscribe on this process; the producer logs through the other process.
    const first = t.ws();
    const firstDone = new Promise<void>((resolve) => {
      const dispose = first.subscribe<Batch>({ query: SUB, variables: { r: runId } }, {
        next: ({ data }) => {
          for (const p of data!.runMetrics.points) received.push(`${p.key}:${p.step}`);
          cursor = data!.runMetrics.cursor;
          if (received.length >= 5 * PER) {
            dispose(); // the client goes away mid-stream
            resolve();
          }
        },
        error: () => resolve(),
        complete: () => resolve(),
      });
    });
    const producer = (async () => {
      for (let b = 0; b < BATCHES; b++) {
        await logVia(otherUrl, runId, points("loss", b * PER, PER));
        if (b % 5 === 0) await new Promise((r) => setTimeout(r, 20));
      }
    })();
    await firstDone;
    await first.dispose();
    await producer;

    // Reconnect with the cursor: the rest, nothing twice.
    const second = t.ws();
    const rest = await take<Batch>(second, SUB, { r: runId, after: cursor }, Number.MAX_SAFE_INTEGER, 3000);
    await second.dispose();
    for (const e of rest.events) for (const p of e.runMetrics.points) received.push(`${p.key}:${p.step}`);

    expect(rest.errors).toEqual([]);
    expect(received.length).toBe(BATCHES * PER);
    expect(new Set(received).size).toBe(BATCHES * PER);
    const steps = received.map((k) => Number(k.split(":")[1]));
    expect(steps).toEqual([...steps].sort((a, b) => a - b)); // in logging order
  });

  it("filters by key and replays from the start when no cursor is given", async () => {
    const runId = await startRun(t, projectId);
    await logVia(t.url, runId, [...points("loss", 0, 50), ...points("acc", 0, 50)]);
    const sub = `subscription($r: ID!) { runMetrics(runId: $r, keys: ["acc"]) { points { key } } }`;
    const client = t.ws();
    const got = take<any>(client, sub, { r: runId }, 2, 5000);
    await new Promise((r) => setTimeout(r, 300));
    await logVia(otherUrl, runId, [...points("loss", 50, 10), ...points("acc", 50, 10)]);
    const { events } = await got;
    await client.dispose();
    const keys = events.flatMap((e) => e.runMetrics.points.map((p: { key: string }) => p.key));
    expect(keys).toHaveLength(60);
    expect(new Set(keys)).toEqual(new Set(["acc"]));
  });

  it("keeps delivering after the server's LISTEN connection is killed", async () => {
    const runId = await startRun(t, projectId);
    const client = t.ws();
    const got = take<Batch>(client, SUB, { r: runId }, Number.MAX_SAFE_INTEGER, 4000);
    await logVia(otherUrl, runId, points("x", 0, 100));
    await new Promise((r) => setTimeout(r, 300));
    await t.app.db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ouro-bus' AND datname = current_database()");
    await logVia(otherUrl, runId, points("x", 100, 100));
    const { events } = await got;
    await client.dispose();
    const steps = events.flatMap((e) => e.runMetrics.points.map((p) => p.step));
    expect(steps).toEqual(Array.from({ length: 200 }, (_, i) => i));
  });

  it("replays the audit trail after a cursor", async () => {
    await startRun(t, projectId);
    const trail = await t.gql(`query($p: ID!) { auditTrail(projectId: $p, first: 100) { cursor action targetId } }`, { p: projectId });
    const events = trail.data.auditTrail;
    expect(events.map((e: { action: string }) => e.action)).toContain("run.start");
    const middle = events[Math.floor(events.length / 2)].cursor;
    const client = t.ws();
    const replay = await take<any>(client, `subscription($p: ID!, $a: Cursor) { auditEvents(projectId: $p, after: $a) { cursor action } }`, { p: projectId, a: middle }, 1000, 1500);
    await client.dispose();
    expect(replay.events.map((e) => e.auditEvents.cursor)).toEqual(events.filter((e: { cursor: string }) => BigInt(e.cursor) > BigInt(middle)).map((e: { cursor: string }) => e.cursor));
  });

  it("refuses a malformed cursor", async () => {
    const client = t.ws();
    const r = await take(client, SUB, { r: "00000000-0000-0000-0000-000000000000", after: "'; DROP TABLE runs; --" }, 1, 2000);
    await client.dispose();
    expect(JSON.stringify(r.errors)).toMatch(/invalid cursor|not found/);
  });

  it("a token revoked through one server is refused by another within a second, despite its token cache", async () => {
    const created = await t.gql(`mutation { createApiToken(input: { name: "cached" }) { token apiToken { id } } }`);
    const { token, apiToken } = created.data.createApiToken;
    const ask = () => fetch(otherUrl, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: '{"query":"{ viewer { id } }"}' });
    expect((await ask()).status).toBe(200); // now cached by the other server
    await t.gql(`mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id: apiToken.id });
    const revokedAt = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - revokedAt < 5000) {
      status = (await ask()).status;
      if (status === 200) await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe(401);
    expect(Date.now() - revokedAt).toBeLessThan(1000);
  });

  it("subscribers of the same operation share each batch's result; other filters still get their own", async () => {
    const runId = await startRun(t, projectId);
    const accOnly = `subscription($r: ID!) { runMetrics(runId: $r, keys: ["acc"]) { cursor points { key step } } }`;
    const c1 = t.ws();
    const c2 = t.ws();
    const c3 = t.ws();
    const a = take<any>(c1, accOnly, { r: runId }, 1000, 2500);
    const b = take<any>(c2, accOnly, { r: runId }, 1000, 2500);
    const all = take<any>(c3, SUB, { r: runId }, 1000, 2500);
    await new Promise((r) => setTimeout(r, 300));
    for (let i = 0; i < 5; i++) await logVia(t.url, runId, [...points("loss", i * 20, 20), ...points("acc", i * 20, 20)]);
    const [ra, rb, rall] = await Promise.all([a, b, all]);
    await Promise.all([c1.dispose(), c2.dispose(), c3.dispose()]);
    const keysOf = (events: any[]) => events.flatMap((e) => e.runMetrics.points.map((p: { key: string; step: number }) => `${p.key}:${p.step}`));
    expect(keysOf(ra.events)).toEqual(keysOf(rb.events));
    expect(keysOf(ra.events)).toHaveLength(100);
    expect(new Set(keysOf(ra.events).map((k) => k.split(":")[0]))).toEqual(new Set(["acc"]));
    expect(keysOf(rall.events)).toHaveLength(200);
  });
});
