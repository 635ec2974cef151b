import { setTimeout as sleep } from "node:timers/promises";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, startTestOuro, type TestOuro } from "./helpers/ouro";

// RELIABILITY.md cases 29 (1000 subscriptions on one socket are capped) and 11 (a revoked
// token's open subscriptions are closed, also on another server than the one that revoked it).

const AUDIT = `subscription($p: ID!) { auditEvents(projectId: $p) { cursor action } }`;

/** Opens an acknowledged graphql-ws socket. */
function openSocket(url: string, token: string): Promise<{ ws: WebSocket; messages: any[]; closed: Promise<{ code: number; reason: string }> }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, "graphql-transport-ws");
    const messages: any[] = [];
    const closed = new Promise<{ code: number; reason: string }>((r) => ws.on("close", (code, reason) => r({ code, reason: reason.toString() })));
    ws.on("open", () => ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } })));
    ws.on("message", (m) => {
      const msg = JSON.parse(m.toString());
      if (msg.type === "connection_ack") resolve({ ws, messages, closed });
      else messages.push(msg);
    });
    ws.on("error", reject);
  });
}

async function gauge(t: TestOuro, name: string): Promise<number> {
  const text = await (await fetch(t.url.replace("/graphql", "/metrics"), { headers: { authorization: `Bearer ${t.adminToken}` } })).text();
  return Number(new RegExp(`^${name} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
}

describe("WebSocket limits with the default configuration", () => {
  let t: TestOuro;
  let projectId: string;
  beforeAll(async () => {
    t = await startTestOuro({ label: "rel-ws" });
    projectId = await createProject(t, "ws");
  });
  afterAll(() => t?.stop());

  it("1000 subscriptions on one socket: the first 100 run, 900 are refused with RATE_LIMITED, and the socket and server stay usable", async () => {
    // The server's end of this socket, to watch what it queues for a client that does not read.
    let serverSide: import("node:net").Socket | undefined;
    t.http.server.once("upgrade", (_req, socket) => (serverSide = socket as import("node:net").Socket));
    const { ws, messages } = await openSocket(t.wsUrl, t.adminToken);
    for (let i = 0; i < 1000; i++) ws.send(JSON.stringify({ id: `s${i}`, type: "subscribe", payload: { query: AUDIT, variables: { p: projectId } } }));
    for (let i = 0; i < 200 && messages.filter((m) => m.type === "error").length < 900; i++) await sleep(50);
    const refused = messages.filter((m) => m.type === "error");
    expect(refused.length).toBe(900);
    expect(new Set(refused.map((m) => m.id))).toEqual(new Set(Array.from({ length: 900 }, (_, i) => `s${i + 100}`)));
    expect(refused[0].payload[0]).toMatchObject({ message: "at most 100 operations per connection", extensions: { code: "RATE_LIMITED" } });
    expect(await gauge(t, "ouro_subscriptions_active")).toBe(100);

    // The 100 that run still deliver: a new audit event reaches every one of them.
    await t.gql(`mutation($p: ID!) { startRun(input: { projectId: $p, experiment: "ws" }) { id } }`, { p: projectId });
    const gotRunStart = () => new Set(messages.filter((m) => m.type === "next" && m.payload.data?.auditEvents.action === "run.start").map((m) => m.id));
    for (let i = 0; i < 200 && gotRunStart().size < 100; i++) await sleep(50);
    expect(gotRunStart()).toEqual(new Set(Array.from({ length: 100 }, (_, i) => `s${i}`)));

    // Completing one frees a slot for a new one.
    ws.send(JSON.stringify({ id: "s0", type: "complete" }));
    for (let i = 0; i < 100 && (await gauge(t, "ouro_subscriptions_active")) !== 99; i++) await sleep(50);
    expect(await gauge(t, "ouro_subscriptions_active")).toBe(99);
    ws.send(JSON.stringify({ id: "again", type: "subscribe", payload: { query: AUDIT, variables: { p: projectId } } }));
    await sleep(300);
    expect(messages.filter((m) => m.type === "error" && m.id === "again")).toEqual([]);

    ws.close();
    for (let i = 0; i < 100 && (await gauge(t, "ouro_subscriptions_active")) !== 0; i++) await sleep(50);
    expect(await gauge(t, "ouro_subscriptions_active")).toBe(0);
    expect((await t.gql(`{ viewer { id } }`)).status).toBe(200);
  });
});

describe("a subscriber whose client stops reading", () => {
  let t: TestOuro;
  let projectId: string;
  beforeAll(async () => {
    t = await startTestOuro({ label: "rel-ws-slow" });
    projectId = await createProject(t, "slow");
  });
  afterAll(() => t?.stop());

  it("a socket that reads nothing while 200,000 points are logged gets each point exactly once, in order, once it reads again", async () => {
    const run = await t.gql(`mutation($p: ID!) { startRun(input: { projectId: $p, experiment: "slow" }) { id } }`, { p: projectId });
    const runId = run.data.startRun.id;
    // The server's end of this socket, to watch what it queues for a client that does not read.
    let serverSide: import("node:net").Socket | undefined;
    t.http.server.once("upgrade", (_req, socket) => (serverSide = socket as import("node:net").Socket));
    const { ws, messages } = await openSocket(t.wsUrl, t.adminToken);
    ws.send(JSON.stringify({ id: "m", type: "subscribe", payload: { query: `subscription($r: ID!) { runMetrics(runId: $r) { cursor points { key step value } } }`, variables: { r: runId } } }));
    await sleep(200);
    // Stop reading: the kernel buffers fill, and the server's sends stop completing.
    const raw = (ws as unknown as { _socket: import("node:net").Socket })._socket;
    raw.pause();
    const N = 200_000;
    let mostQueued = 0;
    const watch = setInterval(() => (mostQueued = Math.max(mostQueued, serverSide?.writableLength ?? 0)), 5);
    for (let from = 0; from < N; from += 10_000) {
      const r = await t.gql(`mutation($r: ID!, $p: [MetricInput!]!) { logMetrics(runId: $r, points: $p) { accepted } }`, {
        r: runId,
        p: Array.from({ length: 10_000 }, (_, i) => ({ key: "loss", step: from + i, value: Math.sin(from + i) })),
      });
      expect(r.data.logMetrics.accepted).toBe(10_000);
    }
    expect((await t.gql(`{ viewer { id } }`)).status).toBe(200); // the server is not stuck behind the slow socket
    clearInterval(watch);
    // Pull-based delivery: the server queues at most about one batch for the stalled socket
    // (the 200,000 points are ~8 MB of JSON), and the live hub's buffer per follower is capped.
    expect(serverSide).toBeDefined();
    expect(mostQueued, "bytes queued in the server for the stalled socket").toBeLessThan(1024 * 1024);
    raw.resume();
    const steps = () => messages.filter((m) => m.type === "next").flatMap((m) => m.payload.data.runMetrics.points.map((p: { step: number }) => p.step));
    for (let i = 0; i < 600 && steps().length < N; i++) await sleep(50);
    expect(steps()).toEqual(Array.from({ length: N }, (_, i) => i));
    expect(messages.filter((m) => m.type === "error")).toEqual([]);
    ws.close();
  }, 120_000);
});

describe("revoking a token closes its subscriptions on every server", () => {
  let a: TestOuro;
  let b: TestOuro;
  let projectId: string;
  beforeAll(async () => {
    a = await startTestOuro({ label: "rel-revoke" });
    // A second server on the same database, with its own pool, bus connection and token cache.
    b = await startTestOuro({ label: "rel-revoke-b", databaseUrl: a.databaseUrl });
    projectId = await createProject(a, "revoke");
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it("a socket on server B subscribed with a token revoked through server A is closed with 4403, and B refuses the token over HTTP", async () => {
    const created = await a.gql(`mutation { createApiToken(input: { name: "on-b" }) { token apiToken { id } } }`);
    const { token, apiToken } = created.data.createApiToken;
    const { ws, closed } = await openSocket(b.wsUrl, token);
    ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: AUDIT, variables: { p: projectId } } }));
    expect((await b.gql(`{ viewer { id } }`, {}, token)).status).toBe(200); // B has the token cached now
    await a.gql(`mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id: apiToken.id });
    const outcome = await Promise.race([closed, sleep(5000).then(() => null)]);
    expect(outcome?.code).toBe(4403);
    expect(outcome?.reason).toMatch(/token revoked/);
    expect((await b.gql(`{ viewer { id } }`, {}, token)).status).toBe(401);
  });
});
