import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, newUserToken, points, startRun, startTestOuro, take, type TestOuro } from "./helpers/ouro";

/** Opens a raw graphql-ws socket and resolves with how the server closed it. */
function closeOf(url: string, send: (ws: WebSocket) => void, timeoutMs = 6000): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, "graphql-transport-ws");
    const timer = setTimeout(() => reject(new Error("socket was not closed")), timeoutMs);
    ws.on("open", () => send(ws));
    ws.on("close", (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
    ws.on("error", () => undefined);
  });
}

describe("authentication and authorization", () => {
  let t: TestOuro;
  let projectId: string;
  let runId: string;
  beforeAll(async () => {
    t = await startTestOuro({ label: "auth" });
    projectId = await createProject(t, "alpha");
    runId = await startRun(t, projectId);
  });
  afterAll(() => t?.stop());

  it("every HTTP route but the health checks refuses a missing, malformed or wrong token with 401", async () => {
    const base = t.url.replace(/\/graphql$/, "");
    const headerSets: Record<string, string>[] = [{}, { authorization: "Bearer" }, { authorization: "Basic YWRtaW46YWRtaW4=" }, { authorization: "Bearer ouro_not-a-real-token-000000" }];
    for (const headers of headerSets) {
      const post = await fetch(`${base}/graphql`, { method: "POST", headers: { ...headers, "content-type": "application/json" }, body: '{"query":"{ viewer { id } }"}' });
      expect(post.status).toBe(401);
      const body = (await post.json()) as any;
      expect(body.errors[0].extensions.code).toBe("UNAUTHENTICATED");
      expect(body.errors[0].extensions.requestId).toMatch(/.{8,}/);
      const get = await fetch(`${base}/graphql?query=%7Bviewer%7Bid%7D%7D`, { headers: { ...headers, "apollo-require-preflight": "1" } });
      expect(get.status).toBe(401);
      expect((await fetch(`${base}/metrics`, { headers })).status).toBe(401);
    }
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
  });

  it("a WebSocket without a valid token in connection_init is closed with 4403", async () => {
    for (const payload of [undefined, {}, { authorization: "Bearer ouro_wrong-token-000000000" }]) {
      const closed = await closeOf(t.wsUrl, (ws) => ws.send(JSON.stringify({ type: "connection_init", payload })));
      expect(closed.code).toBe(4403);
    }
  });

  it("another project's run looks like it does not exist; a viewer cannot write", async () => {
    const bobToken = await newUserToken(t, "bob@example.com");
    const readOther = await t.gql(`query($r: ID!) { run(id: $r) { id name } }`, { r: runId }, bobToken);
    expect(readOther.errors?.[0].extensions?.code).toBe("NOT_FOUND");
    expect(readOther.errors?.[0].message).toBe(`run ${runId} not found`);
    const writeOther = await t.gql(`mutation($r: ID!) { finishRun(runId: $r, status: killed) { status } }`, { r: runId }, bobToken);
    expect(writeOther.errors?.[0].extensions?.code).toBe("NOT_FOUND");
    const subOther = await take(t.ws(bobToken), `subscription($r: ID!) { runMetrics(runId: $r) { cursor } }`, { r: runId }, 1, 3000);
    expect(JSON.stringify(subOther.errors)).toContain("not found");
    const listed = await t.gql(`{ projects { totalCount } }`, {}, bobToken);
    expect(listed.data.projects.totalCount).toBe(0);

    await t.gql(`mutation($p: ID!) { setMembership(projectId: $p, email: "bob@example.com", role: viewer) { role } }`, { p: projectId });
    expect((await t.gql(`query($r: ID!) { run(id: $r) { id } }`, { r: runId }, bobToken)).data.run.id).toBe(runId);
    const write = await t.gql(`mutation($r: ID!, $p: [MetricInput!]!) { logMetrics(runId: $r, points: $p) { accepted } }`, { r: runId, p: points("x", 0, 1) }, bobToken);
    expect(write.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    const newRun = await t.gql(`mutation($p: ID!) { startRun(input: { projectId: $p, experiment: "e" }) { id } }`, { p: projectId }, bobToken);
    expect(newRun.errors?.[0].extensions?.code).toBe("FORBIDDEN");
    const admin = await t.gql(`mutation { createUser(input: { email: "eve@example.com", name: "Eve", isAdmin: true }) { id } }`, {}, bobToken);
    expect(admin.errors?.[0].extensions?.code).toBe("FORBIDDEN");
  });

  it("tokens are stored only as hashes and shown once", async () => {
    const created = await t.gql(`mutation { createApiToken(input: { name: "laptop" }) { token apiToken { id prefix } } }`);
    const { token, apiToken } = created.data.createApiToken;
    const rows = await t.app.db.query("SELECT token_hash FROM api_tokens WHERE id = $1", [apiToken.id]);
    expect(rows[0].token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0].token_hash).not.toContain(token);
    expect(token.startsWith(apiToken.prefix)).toBe(true);
    const listed = await t.gql(`{ apiTokens { id name prefix } }`);
    expect(JSON.stringify(listed)).not.toContain(token);
  });

  it("a revoked token is refused at once and its open subscriptions are closed", async () => {
    const created = await t.gql(`mutation { createApiToken(input: { name: "short-lived" }) { token apiToken { id } } }`);
    const { token, apiToken } = created.data.createApiToken;
    const closed = new Promise<{ code: number }>((resolve) => {
      const ws = new WebSocket(t.wsUrl, "graphql-transport-ws");
      ws.on("open", () => ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } })));
      ws.on("message", (m) => {
        const msg = JSON.parse(m.toString());
        if (msg.type === "connection_ack") {
          ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: `subscription($p: ID!) { auditEvents(projectId: $p) { cursor } }`, variables: { p: projectId } } }));
          setTimeout(() => void t.gql(`mutation($id: ID!) { revokeApiToken(id: $id) { revokedAt } }`, { id: apiToken.id }), 200);
        }
      });
      ws.on("close", (code) => resolve({ code }));
    });
    expect((await closed).code).toBe(4403);
    const after = await t.gql(`{ viewer { id } }`, {}, token);
    expect(after.status).toBe(401);
  });

  it("never writes a token into the logs, even when a request fails", async () => {
    const bad = "ouro_secret-looking-but-wrong-token-1234";
    await fetch(t.url, { method: "POST", headers: { authorization: `Bearer ${bad}`, "content-type": "application/json" }, body: "{" });
    await t.gql(`{ run(id: "00000000-0000-0000-0000-000000000000") { id } }`);
    const all = t.logs.join("\n");
    expect(all).not.toContain(bad);
    expect(all).not.toContain(t.adminToken);
  });
});
