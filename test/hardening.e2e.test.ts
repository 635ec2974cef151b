import http from "node:http";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, startRun, startTestOuro, type TestOuro } from "./helpers/ouro";

/** A raw graphql-ws conversation: send messages after the socket opens, collect what comes back. */
function converse(url: string, token: string | null, script: (ws: WebSocket, msg: any) => void, opts: { init?: boolean; timeoutMs?: number } = {}) {
  return new Promise<{ messages: any[]; close: { code: number; reason: string } | null }>((resolve) => {
    const ws = new WebSocket(url, "graphql-transport-ws");
    const messages: any[] = [];
    const timer = setTimeout(() => {
      ws.terminate();
      resolve({ messages, close: null });
    }, opts.timeoutMs ?? 5000);
    ws.on("open", () => {
      if (opts.init !== false) ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } }));
      script(ws, null);
    });
    ws.on("message", (m) => {
      const msg = JSON.parse(m.toString());
      messages.push(msg);
      script(ws, msg);
    });
    ws.on("close", (code, reason) => {
      clearTimeout(timer);
      resolve({ messages, close: { code, reason: reason.toString() } });
    });
    ws.on("error", () => undefined);
  });
}

describe("hostile requests", () => {
  let t: TestOuro;
  let projectId: string;
  let runId: string;
  beforeAll(async () => {
    t = await startTestOuro({ label: "hardening", env: { OURO_MAX_BODY_BYTES: "200000", OURO_WS_MAX_PAYLOAD_BYTES: "100000", OURO_WS_MAX_SUBSCRIPTIONS: "5" } });
    projectId = await createProject(t, "hard");
    runId = await startRun(t, projectId);
  });
  afterAll(() => t?.stop());

  const aliases16 = `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: viewer { id }`).join(" ")} }`;
  const tokens1001 = `{ viewer { ${Array.from({ length: 1000 }, () => "id").join(" ")} } }`;
  const fragmentBomb = `query { viewer { ...A } }
    fragment A on User { id ...B ...B ...B ...B }
    fragment B on User { id ...C ...C ...C ...C }
    fragment C on User { id ...D ...D ...D ...D }
    fragment D on User { id email name isAdmin createdAt }`;
  it("refuses too many aliases, too many tokens and a fragment bomb before running anything", async () => {
    for (const q of [aliases16, tokens1001]) {
      const r = await t.gql(q);
      expect(r.status).toBe(400);
      expect(r.errors?.[0].extensions?.code).toMatch(/GRAPHQL_(VALIDATION|PARSE)_FAILED|BAD_USER_INPUT/);
    }
    const bomb = await t.gql(fragmentBomb);
    expect(bomb.status).toBe(400);
  });

  it("refuses an operation nested deeper than 6 levels, also when hidden in fragments", async () => {
    const nest = (levels: number) => {
      let inner = "id";
      for (let i = 0; i < levels; i++) inner = `parentRun { ${inner} }`;
      return `query($r: ID!) { run(id: $r) { ${inner} } }`;
    };
    expect((await t.gql(nest(4), { r: runId })).errors).toBeUndefined(); // depth 6: run + 4 parents + id
    const seven = await t.gql(nest(5), { r: runId });
    expect(seven.status).toBe(400);
    expect(seven.errors?.[0].message).toContain("Query depth limit of 6 exceeded");
    const viaFragments = await t.gql(
      `query($r: ID!) { run(id: $r) { ...A } } fragment A on Run { parentRun { ...B } } fragment B on Run { parentRun { parentRun { parentRun { parentRun { id } } } } }`,
      { r: runId },
    );
    expect(viaFragments.status).toBe(400);
  });

  it("answers a JSON-array batch with 400", async () => {
    const res = await fetch(t.url, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify([{ query: "{ viewer { id } }" }, { query: "{ viewer { id } }" }]),
    });
    expect(res.status).toBe(400);
  });

  it("blocks cross-site requests: text/plain and form posts, mutations over GET", async () => {
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"]) {
      const res = await fetch(t.url, { method: "POST", headers: { authorization: `Bearer ${t.adminToken}`, "content-type": type }, body: '{"query":"mutation { createProject(input: {name: \\"csrf\\"}) { id } }"}' });
      expect(res.status).toBe(400);
    }
    const get = await fetch(`${t.url}?query=${encodeURIComponent('mutation { createProject(input: {name: "viaget"}) { id } }')}`, {
      headers: { authorization: `Bearer ${t.adminToken}`, "apollo-require-preflight": "1" },
    });
    expect(get.status).toBeGreaterThanOrEqual(400);
    const rows = await t.app.db.query("SELECT name FROM projects WHERE name IN ('csrf', 'viaget')");
    expect(rows).toEqual([]);
  });

  it("answers an oversized body with 413 and a malformed one with 400, without stack traces", async () => {
    const big = await fetch(t.url, {
      method: "POST",
      headers: { authorization: `Bearer ${t.adminToken}`, "content-type": "application/json" },
      body: JSON.stringify({ query: "{ viewer { id } }", variables: { pad: "x".repeat(300_000) } }),
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as any).errors[0].extensions.code).toBe("PAYLOAD_TOO_LARGE");
    const broken = await fetch(t.url, { method: "POST", headers: { authorization: `Bearer ${t.adminToken}`, "content-type": "application/json" }, body: '{"query": ' });
    expect(broken.status).toBe(400);
    const text = await broken.text();
    expect(text).not.toMatch(/at \w+ \(|node_modules|\.ts:\d+/);
  });

  it("reads /graphql bodies itself: limits while streaming, refuses foreign charsets and compression by name, keeps CSRF, GET and the connection", async () => {
    // One keep-alive socket, so "the connection stays usable" is checked, not a fresh one.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const send = (opts: { method?: string; path?: string; headers?: Record<string, string>; chunks?: string[] }) =>
      new Promise<{ status: number; body: any; reused: boolean }>((resolve, reject) => {
        const req = http.request(`${t.url}${opts.path ?? ""}`, { agent, method: opts.method ?? "POST", headers: { authorization: `Bearer ${t.adminToken}`, ...opts.headers } }, (res) => {
          let text = "";
          res.on("data", (d) => (text += d));
          res.on("end", () => resolve({ status: res.statusCode!, body: text.startsWith("{") ? JSON.parse(text) : text, reused: req.reusedSocket }));
        });
        req.on("error", reject);
        for (const chunk of opts.chunks ?? []) req.write(chunk); // no content-length: chunked
        req.end();
      });
    const json = { "content-type": "application/json" };
    const viewer = JSON.stringify({ query: "{ viewer { id } }" });
    try {
      expect((await send({ headers: json, chunks: [viewer] })).body.data.viewer.id).toBeTruthy();
      // The limit (200,000 bytes here) holds while a body without a declared length streams in.
      const streamed = await send({ headers: json, chunks: [`{"query": "{ viewer { id } }", "variables": {"pad": "`, ..."x".repeat(300_000).match(/.{1,50000}/g)!, `"}}`] });
      expect(streamed.status).toBe(413);
      expect(streamed.body.errors[0].extensions.code).toBe("PAYLOAD_TOO_LARGE");
      const latin1 = await send({ headers: { "content-type": "application/json; charset=latin1" }, chunks: [viewer] });
      expect(latin1.status).toBe(400);
      expect(latin1.body.errors[0]).toMatchObject({ message: "unsupported charset latin1: send UTF-8", extensions: { code: "BAD_USER_INPUT" } });
      const gzipped = await send({ headers: { ...json, "content-encoding": "gzip" }, chunks: [viewer] });
      expect(gzipped.status).toBe(400);
      expect(gzipped.body.errors[0].message).toBe("unsupported content-encoding gzip: send the body uncompressed");
      // A form post is what a cross-site page can send without asking: refused (CSRF).
      const form = await send({ headers: { "content-type": "text/plain" }, chunks: [viewer] });
      expect(form.status).toBe(400);
      expect(JSON.stringify(form.body)).toMatch(/Cross-Site Request Forgery/);
      const get = await send({ method: "GET", path: `?query=${encodeURIComponent("{ viewer { id } }")}`, headers: { "apollo-require-preflight": "1" } });
      expect(get.body.data.viewer.id).toBeTruthy();
      const after = await send({ headers: json, chunks: [viewer] });
      expect(after.body.data.viewer.id).toBeTruthy();
      expect(after.reused, "the refusals left the keep-alive connection usable").toBe(true);
    } finally {
      agent.destroy();
    }
    // A client that hangs up halfway through its body is no server fault.
    await new Promise<void>((resolve) => {
      const req = http.request(t.url, { method: "POST", headers: { authorization: `Bearer ${t.adminToken}`, ...json, "content-length": "1000" } });
      req.on("error", () => resolve());
      req.write(`{"query": "{ viewer`);
      setTimeout(() => req.destroy(), 100);
      req.on("close", () => resolve());
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(t.logs.join("")).not.toMatch(/database unavailable|unhandled HTTP error/);
    // Every one of these is counted under the /graphql route.
    const metrics = await (await fetch(t.url.replace(/\/graphql$/, "/metrics"), { headers: { authorization: `Bearer ${t.adminToken}` } })).text();
    expect(metrics).toMatch(/ouro_http_requests_total\{route="\/graphql",status="413"\} [1-9]/);
    expect(metrics).not.toMatch(/ouro_http_requests_total\{route="other"/);
  });

  it("hides internal errors behind a generic message and a request id", async () => {
    // A value the database rejects in a way we do not translate: a step beyond bigint.
    const r = await t.gql(`mutation($r: ID!) { logMetrics(runId: $r, points: [{ key: "k", value: 1, step: 1e30 }]) { accepted } }`, { r: runId });
    expect(r.errors?.[0].extensions?.code).toBe("BAD_USER_INPUT");
    // Force a real internal error: drop a table the resolver needs, then put it back.
    await t.app.db.query("ALTER TABLE params RENAME TO params_away");
    try {
      const res = await t.gql(`query($r: ID!) { run(id: $r) { params { key } } }`, { r: runId });
      expect(res.errors?.[0]).toMatchObject({ message: "Internal server error", extensions: { code: "INTERNAL" } });
      expect(res.errors?.[0].extensions?.requestId).toMatch(/.{8,}/);
      expect(JSON.stringify(res)).not.toMatch(/params_away|relation|SELECT|at \w+ \(/);
      expect(t.logs.join("\n")).toContain(res.errors![0].extensions!.requestId as string);
    } finally {
      await t.app.db.query("ALTER TABLE params_away RENAME TO params");
    }
  });

  it("keeps introspection and field suggestions off in production", async () => {
    const prod = await startTestOuro({ label: "prod", env: { OURO_ENV: "production" } });
    try {
      const intro = await prod.gql(`{ __schema { types { name } } }`);
      expect(intro.status).toBe(400);
      const typo = await prod.gql(`{ viewr { id } }`);
      expect(JSON.stringify(typo.errors)).not.toContain("Did you mean");
    } finally {
      await prod.stop();
    }
    const dev = await t.gql(`{ __schema { queryType { name } } }`);
    expect(dev.data.__schema.queryType.name).toBe("Query");
  });

  it("applies the same limits over WebSocket", async () => {
    const { messages } = await converse(t.wsUrl, t.adminToken, (ws, msg) => {
      if (msg?.type === "connection_ack") {
        ws.send(JSON.stringify({ id: "a", type: "subscribe", payload: { query: aliases16 } }));
        ws.send(JSON.stringify({ id: "b", type: "subscribe", payload: { query: tokens1001 } }));
        ws.send(JSON.stringify({ id: "c", type: "subscribe", payload: { query: fragmentBomb } }));
      }
    }, { timeoutMs: 1500 });
    const errors = messages.filter((m) => m.type === "error").map((m) => m.id).sort();
    expect(errors).toEqual(["a", "b", "c"]);
  });

  it("closes a socket that never sends connection_init with 4408 after 3 seconds", async () => {
    const started = Date.now();
    const { close } = await converse(t.wsUrl, null, () => undefined, { init: false, timeoutMs: 6000 });
    expect(close?.code).toBe(4408);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2900);
  });

  it("closes with 4401 on subscribe before ack, 4409 on a duplicate id, 1009 on a frame over the limit", async () => {
    const early = await converse(t.wsUrl, null, (ws, msg) => {
      if (msg === null) ws.send(JSON.stringify({ id: "1", type: "subscribe", payload: { query: "{ viewer { id } }" } }));
    }, { init: false });
    expect(early.close?.code).toBe(4401);
    const dup = await converse(t.wsUrl, t.adminToken, (ws, msg) => {
      if (msg?.type === "connection_ack") {
        const sub = JSON.stringify({ id: "same", type: "subscribe", payload: { query: `subscription($p: ID!) { auditEvents(projectId: $p) { cursor } }`, variables: { p: projectId } } });
        ws.send(sub);
        ws.send(sub);
      }
    });
    expect(dup.close?.code).toBe(4409);
    const huge = await converse(t.wsUrl, t.adminToken, (ws, msg) => {
      if (msg?.type === "connection_ack") ws.send(JSON.stringify({ id: "x", type: "subscribe", payload: { query: "{ viewer { id } }", variables: { pad: "x".repeat(200_000) } } }));
    });
    expect(huge.close?.code).toBe(1009);
  });

  it("caps subscriptions per socket", async () => {
    const { messages } = await converse(t.wsUrl, t.adminToken, (ws, msg) => {
      if (msg?.type === "connection_ack") {
        for (let i = 0; i < 8; i++) {
          ws.send(JSON.stringify({ id: `s${i}`, type: "subscribe", payload: { query: `subscription($p: ID!) { auditEvents(projectId: $p) { cursor } }`, variables: { p: projectId } } }));
        }
      }
    }, { timeoutMs: 1500 });
    const refused = messages.filter((m) => m.type === "error");
    expect(refused.length).toBe(3);
    expect(JSON.stringify(refused[0].payload)).toContain("at most 5");
  });
});
