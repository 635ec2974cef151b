import { request } from "node:http";
import WebSocket from "ws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthFailureLimiter, clientKey } from "../server/src/platform/auth-limiter";
import { startTestOuro, type TestOuro } from "./helpers/ouro";

// RELIABILITY.md case 13: token brute force (through aliases, batching, REST or WebSocket) is limited.

/** POST /graphql from a chosen local address (127.0.0.2 is loopback too on Linux). */
function postFrom(url: string, localAddress: string, token: string | null, body: string, headers: Record<string, string> = {}): Promise<{ status: number; retryAfter: string | undefined; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", localAddress, headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode!, retryAfter: res.headers["retry-after"] as string | undefined, json: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

/** How the server closes a WebSocket whose connection_init carries `token`. */
function wsCloseFor(url: string, token: string): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, "graphql-transport-ws");
    const timer = setTimeout(() => reject(new Error("socket was not closed")), 6000);
    ws.on("open", () => ws.send(JSON.stringify({ type: "connection_init", payload: { authorization: `Bearer ${token}` } })));
    ws.on("close", (code, reason) => {
      clearTimeout(timer);
      resolve({ code, reason: reason.toString() });
    });
    ws.on("error", () => undefined);
  });
}

const VIEWER = JSON.stringify({ query: "{ viewer { id } }" });
const guess = (i: number) => `ouro_guess-${String(i).padStart(4, "0")}-aaaaaaaaaaaaaaaaaaaaaaaaaaaa`;

describe("guessing API tokens", () => {
  let t: TestOuro;
  let base: string;
  beforeAll(async () => {
    t = await startTestOuro({ label: "rel-guess", env: { OURO_AUTH_MAX_FAILURES: "5", OURO_AUTH_FAILURE_WINDOW_SECONDS: "600" } });
    base = t.url.replace(/\/graphql$/, "");
  });
  afterAll(() => t?.stop());

  it("aliases and batches cannot try several tokens in one request: the token is a header, batches are refused", async () => {
    // There is no GraphQL field that takes a token or password, so aliases have nothing to multiply;
    // a JSON-array batch with a wrong token is one wrong token (401), never N tries.
    const batch = await postFrom(t.url, "127.0.0.3", guess(0), JSON.stringify([{ query: "{ viewer { id } }" }, { query: "{ viewer { id } }" }]));
    expect(batch.status).toBe(401);
    const aliases = `{ ${Array.from({ length: 16 }, (_, i) => `a${i}: viewer { id }`).join(" ")} }`;
    const aliased = await t.gql(aliases, {}, t.adminToken);
    expect(aliased.status).toBe(400);
  });

  it("after 5 wrong tokens an address gets 429 with Retry-After on GraphQL, REST and WebSocket; other addresses and known tokens are unaffected", async () => {
    for (let i = 1; i <= 5; i++) {
      const r = await postFrom(t.url, "127.0.0.1", guess(i), VIEWER);
      expect(r.status, `guess ${i}`).toBe(401);
      expect(r.json.errors[0].extensions.code).toBe("UNAUTHENTICATED");
    }
    const blocked = await postFrom(t.url, "127.0.0.1", guess(6), VIEWER);
    expect(blocked.status).toBe(429);
    expect(blocked.json.errors[0].extensions.code).toBe("RATE_LIMITED");
    expect(blocked.json.errors[0].message).toMatch(/too many wrong API tokens/);
    expect(Number(blocked.retryAfter)).toBeGreaterThan(1);
    expect(Number(blocked.retryAfter)).toBeLessThanOrEqual(600);

    // REST routes sit behind the same guard.
    for (const [method, path] of [["GET", "/metrics"], ["POST", "/v1/uploads?projectId=00000000-0000-0000-0000-000000000000"], ["GET", "/v1/artifacts/00000000-0000-0000-0000-000000000000"], ["POST", "/v1/endpoints/x/predict"]]) {
      const res = await fetch(`${base}${path}`, { method, headers: { authorization: `Bearer ${guess(7)}` }, body: method === "POST" ? "{}" : undefined });
      expect(res.status, path).toBe(429);
      expect(res.headers.get("retry-after"), path).toMatch(/^\d+$/);
    }
    // The WebSocket's connection_init too: closed with 4429 instead of being checked.
    const closed = await wsCloseFor(t.wsUrl, guess(8));
    expect(closed.code).toBe(4429);
    expect(closed.reason).toMatch(/retry in \d+ s/);

    // A valid token this server already knows keeps working from the blocked address,
    // a client without a token still hears 401 (it guessed nothing), and another address is not blocked.
    expect((await t.gql(`{ viewer { id } }`)).status).toBe(200);
    expect((await postFrom(t.url, "127.0.0.1", null, VIEWER)).status).toBe(401);
    const other = await postFrom(t.url, "127.0.0.2", guess(9), VIEWER);
    expect(other.status).toBe(401);
  });
});

describe("guessing across several servers on one database", () => {
  let a: TestOuro;
  let b: TestOuro;
  beforeAll(async () => {
    const env = { OURO_AUTH_MAX_FAILURES: "5", OURO_AUTH_FAILURE_WINDOW_SECONDS: "600" };
    a = await startTestOuro({ label: "rel-guess-shared", env });
    b = await startTestOuro({ databaseUrl: a.databaseUrl, env });
    expect((await b.gql(`{ viewer { id } }`, {}, a.adminToken)).status).toBe(200); // B now knows the token
  });
  afterAll(async () => {
    await b?.stop();
    await a?.stop();
  });

  it("counts wrong tokens together: spreading guesses over two servers buys at most one more guess per server", async () => {
    for (let i = 1; i <= 3; i++) expect((await postFrom(a.url, "127.0.0.4", guess(100 + i), VIEWER)).status, `guess ${i} at A`).toBe(401);
    for (let i = 4; i <= 5; i++) expect((await postFrom(b.url, "127.0.0.4", guess(100 + i), VIEWER)).status, `guess ${i} at B`).toBe(401);
    // B saw the shared count reach 5 with its last guess: it refuses the next one unchecked.
    const atB = await postFrom(b.url, "127.0.0.4", guess(106), VIEWER);
    expect(atB.status).toBe(429);
    expect(Number(atB.retryAfter)).toBeGreaterThan(500);
    // A had counted 3 itself; its next wrong token is checked (401) and teaches it the shared count.
    expect((await postFrom(a.url, "127.0.0.4", guess(107), VIEWER)).status).toBe(401);
    expect((await postFrom(a.url, "127.0.0.4", guess(108), VIEWER)).status).toBe(429);
    // Another address starts from nothing, and a known token still works from the blocked one.
    expect((await postFrom(a.url, "127.0.0.5", guess(109), VIEWER)).status).toBe(401);
    expect((await postFrom(b.url, "127.0.0.4", a.adminToken, VIEWER)).status).toBe(200);
  });
});

describe("guessing through a reverse proxy", () => {
  let t: TestOuro;
  beforeAll(async () => {
    // 127.0.0.6 plays the proxy the operator trusts; every other address is a direct client.
    t = await startTestOuro({ label: "rel-guess-proxy", env: { OURO_AUTH_MAX_FAILURES: "3", OURO_AUTH_FAILURE_WINDOW_SECONDS: "600", OURO_TRUST_PROXY: "127.0.0.6" } });
  });
  afterAll(() => t?.stop());

  const via = (client: string) => ({ "x-forwarded-for": client });

  it("counts each client behind the trusted proxy by its forwarded address, so one guesser does not block the others", async () => {
    for (let i = 1; i <= 3; i++) expect((await postFrom(t.url, "127.0.0.6", guess(200 + i), VIEWER, via("203.0.113.1"))).status).toBe(401);
    expect((await postFrom(t.url, "127.0.0.6", guess(204), VIEWER, via("203.0.113.1"))).status).toBe(429);
    // Another client through the same proxy is not blocked.
    expect((await postFrom(t.url, "127.0.0.6", guess(205), VIEWER, via("203.0.113.2"))).status).toBe(401);
    // A client that forged its own entry in front is still counted by the address the proxy saw.
    expect((await postFrom(t.url, "127.0.0.6", guess(206), VIEWER, via("198.51.100.7, 203.0.113.1"))).status).toBe(429);
  });

  it("ignores X-Forwarded-For from a peer it does not trust: a direct guesser cannot spread its guesses over invented addresses", async () => {
    for (let i = 1; i <= 3; i++) expect((await postFrom(t.url, "127.0.0.7", guess(210 + i), VIEWER, via(`198.51.100.${i}`))).status).toBe(401);
    expect((await postFrom(t.url, "127.0.0.7", guess(214), VIEWER, via("198.51.100.99"))).status).toBe(429);
  });
});

describe("the failed-authentication window", () => {
  it("blocks at the limit, says how long to wait, and forgets the address when the window ends", () => {
    const limiter = new AuthFailureLimiter(3, 10_000);
    const t0 = 1_000_000;
    for (let i = 0; i < 2; i++) limiter.fail("10.0.0.1", t0);
    expect(limiter.retryAfterSeconds("10.0.0.1", t0)).toBe(0);
    limiter.fail("10.0.0.1", t0);
    expect(limiter.retryAfterSeconds("10.0.0.1", t0 + 2_500)).toBe(8);
    expect(limiter.retryAfterSeconds("10.0.0.2", t0)).toBe(0);
    expect(limiter.retryAfterSeconds("10.0.0.1", t0 + 10_000)).toBe(0);
  });

  it("counts an IPv6 client by its /64 and an IPv4-mapped address as IPv4", () => {
    expect(clientKey("2001:db8:1:2:aaaa::1")).toBe(clientKey("2001:db8:1:2:bbbb:cccc:dddd:eeee"));
    expect(clientKey("2001:db8:1:3::1")).not.toBe(clientKey("2001:db8:1:2::1"));
    expect(clientKey("::ffff:192.0.2.7")).toBe("192.0.2.7");
  });

  it("keeps its memory bounded under guesses from many addresses", () => {
    const limiter = new AuthFailureLimiter(1, 60_000, 100);
    for (let i = 0; i < 1000; i++) limiter.fail(`10.0.${i >> 8}.${i & 255}`, 5);
    expect((limiter as unknown as { windows: Map<string, unknown> }).windows.size).toBeLessThanOrEqual(100);
    expect(limiter.retryAfterSeconds("10.0.3.231", 5)).toBeGreaterThan(0); // the latest are kept
  });
});
