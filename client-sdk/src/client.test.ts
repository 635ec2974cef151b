import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newUserToken, startTestOuro, type TestOuro } from "../../test/helpers/ouro";
import { documents, OuroApiError, OuroClient, OuroJobError, OuroNetworkError, type AuditEvent, type FetchLike } from "./index";
import { collect, killableWebSocket } from "./testing/helpers";

/** Awaits a promise that should reject, and returns what it rejected with. */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (err: unknown) => err,
  );
}

describe("the SDK's client, errors and streams, on a real server (no worker)", () => {
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
    t = await startTestOuro({ label: "sdk-client" });
    client = newClient();
    projectId = (await client.projects.create({ name: "sdk-client", description: "from the SDK" })).id;
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await t?.stop();
  });

  it("creates, lists and finds projects; a taken name is a CONFLICT", async () => {
    const viewer = await client.viewer();
    expect(viewer).toMatchObject({ email: "admin@localhost", isAdmin: true });
    const p = await client.projects.get(projectId);
    expect(p).toMatchObject({ id: projectId, name: "sdk-client", description: "from the SDK", myRole: "admin" });
    expect(await client.projects.getByName("sdk-client")).toEqual(p);
    for (let i = 0; i < 3; i++) await client.projects.create({ name: `extra-${i}` });
    const page = await client.projects.list({ first: 2 });
    expect(page.nodes).toHaveLength(2);
    expect(page.totalCount).toBe(4);
    expect(page.pageInfo.hasNextPage).toBe(true);
    const all: string[] = [];
    for await (const project of client.projects.all(2)) all.push(project.name);
    expect(all.sort()).toEqual(["extra-0", "extra-1", "extra-2", "sdk-client"]);
    const err = await rejection(client.projects.create({ name: "sdk-client" }));
    expect(err).toBeInstanceOf(OuroApiError);
    expect((err as OuroApiError).code).toBe("CONFLICT");
  });

  it("adds a member with a role; to outsiders a project looks missing, and viewers cannot write", async () => {
    const token = await newUserToken(t, "ada@example.com");
    const ada = newClient({ token });
    const hidden = await rejection(ada.projects.get(projectId));
    expect((hidden as OuroApiError).code).toBe("NOT_FOUND");
    const membership = await client.projects.setMembership(projectId, "ada@example.com", "viewer");
    expect(membership.role).toBe("viewer");
    expect((await ada.projects.get(projectId)).myRole).toBe("viewer");
    const denied = await rejection(ada.runs.start(projectId, "nope"));
    expect(denied).toBeInstanceOf(OuroApiError);
    expect((denied as OuroApiError).code).toBe("FORBIDDEN");
  });

  it("a bad token is an UNAUTHENTICATED OuroApiError over HTTP, and ends a stream instead of reconnecting forever", async () => {
    const bad = newClient({ token: "ouro_not-a-real-token" });
    const err = await rejection(bad.viewer());
    expect(err).toBeInstanceOf(OuroApiError);
    expect(err).not.toBeInstanceOf(OuroNetworkError);
    expect(err).toMatchObject({ code: "UNAUTHENTICATED", status: 401, retryable: false });
    expect((err as OuroApiError).requestId).toMatch(/^[\w.-]{8,64}$/);

    const reconnects: unknown[] = [];
    const stream = bad.audit.follow(projectId, null, { onReconnect: (e) => reconnects.push(e) });
    const streamErr = await rejection(stream.next());
    expect(streamErr).toBeInstanceOf(OuroApiError);
    expect((streamErr as OuroApiError).code).toBe("UNAUTHENTICATED");
    expect(reconnects).toEqual([]);
  });

  it("a revoked token's live stream ends with UNAUTHENTICATED", async () => {
    const created = await client.tokens.create({ name: "short-lived", expiresInDays: 1 });
    expect(created.token).toMatch(/^ouro_/);
    expect((await client.tokens.list()).map((k) => k.id)).toContain(created.apiToken.id);
    const holder = newClient({ token: created.token });
    const stream = holder.audit.follow(projectId);
    expect((await stream.next()).done).toBe(false); // connected and replaying
    const revoked = await client.tokens.revoke(created.apiToken.id);
    expect(revoked.revokedAt).not.toBeNull();
    const end = await rejection(collect(stream, () => false, 10_000));
    expect(end).toBeInstanceOf(OuroApiError);
    expect((end as OuroApiError).code).toBe("UNAUTHENTICATED");
    expect((await rejection(holder.viewer())) as OuroApiError).toMatchObject({ code: "UNAUTHENTICATED" });
  });

  it("network failures are OuroNetworkErrors, distinct from API errors, and retried for queries", async () => {
    const unreachable = newClient({ url: "http://127.0.0.1:9/graphql", maxRetries: 0 });
    const err = await rejection(unreachable.viewer());
    expect(err).toBeInstanceOf(OuroNetworkError);
    expect(err).not.toBeInstanceOf(OuroApiError);
    expect((err as OuroNetworkError).retryable).toBe(true);
    expect((err as Error).message).toContain("127.0.0.1:9");

    // A proxy's HTML error page: a network error with the status; a query is retried past it.
    let calls = 0;
    const proxy: FetchLike = async (input, init) => {
      if (calls++ === 0) return new Response("<html>502 Bad Gateway</html>", { status: 502, headers: { "content-type": "text/html" } });
      return fetch(input, init);
    };
    const retries: unknown[] = [];
    const behindProxy = newClient({ fetch: proxy });
    const viewer = await behindProxy.request(documents.ViewerDocument, {}, { onRetry: (e) => retries.push(e) });
    expect(viewer.viewer.email).toBe("admin@localhost");
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ name: "OuroNetworkError", status: 502 });

    // Mutations are not retried unless the SDK knows they are idempotent: startRun would create two runs.
    calls = 0;
    const noRetry = await rejection(behindProxy.runs.start(projectId, "once"));
    expect(noRetry).toBeInstanceOf(OuroNetworkError);
    expect((await client.runs.list(projectId, { experiment: "once" })).totalCount).toBe(0);
  });

  it("follows the audit trail live across a forced disconnect, each event exactly once", async () => {
    const sockets = killableWebSocket();
    const follower = newClient({ webSocketImpl: sockets.impl });
    const startRuns = async (n: number) => {
      for (let i = 0; i < n; i++) await (await client.runs.start(projectId, "audited")).finish();
    };
    await startRuns(10);
    const stream = follower.audit.follow(projectId);
    const wholeTrail = async () => {
      const all: AuditEvent[] = [];
      for await (const e of client.audit.history(projectId)) all.push(e);
      return all;
    };
    const before = (await wholeTrail()).length;
    expect(before).toBeGreaterThan(20);
    const events: AuditEvent[] = await collect(stream, (items) => items.length >= before);
    expect(sockets.killAll()).toBe(1);
    await startRuns(10); // while the follower is reconnecting
    const trail = await wholeTrail();
    events.push(...(await collect(stream, (items) => events.length + items.length >= trail.length, 20_000)));
    // Nothing more arrives.
    events.push(...(await collect(stream, () => false, 300)));
    stream.close();
    expect(events.map((e) => e.cursor)).toEqual(trail.map((e) => e.cursor));
    expect(events.filter((e) => e.action === "run.start")).toHaveLength(20);
    expect(stream.cursor).toBe(trail.at(-1)!.cursor);

    // Resuming from a cursor gives only what came after it.
    const middle = trail[5]!.cursor;
    const resumed = follower.audit.follow(projectId, middle);
    const rest = await collect(resumed, (items) => items.length >= trail.length - 6, 10_000);
    resumed.close();
    expect(rest.map((e) => e.cursor)).toEqual(trail.slice(6).map((e) => e.cursor));
  });

  it("cancels a queued job; waiting for it rejects with an OuroJobError holding the job", async () => {
    const run = await client.runs.start(projectId, "export");
    run.logMetric("loss", 1);
    await run.finish();
    const job = await client.runs.export(run.id); // no worker here: it stays queued
    expect(job.status).toBe("queued");
    const again = await client.runs.export(run.id, { idempotencyKey: job.idempotencyKey! });
    expect(again.id).toBe(job.id);

    const waiting = rejection(client.jobs.wait(job.id));
    const outcome = await client.jobs.cancel(job.id);
    expect(outcome).toMatchObject({ cancelled: true, job: { id: job.id, status: "cancelled" } });
    const err = await waiting;
    expect(err).toBeInstanceOf(OuroJobError);
    expect((err as OuroJobError).job).toMatchObject({ id: job.id, status: "cancelled" });

    const second = await client.jobs.cancel(job.id);
    expect(second.cancelled).toBe(false);
    if (!second.cancelled) expect(second.message).toMatch(/cancelled/);
    const listed = await client.jobs.list(projectId, { status: "cancelled" });
    expect(listed.nodes.map((j) => j.id)).toContain(job.id);
  });
});
