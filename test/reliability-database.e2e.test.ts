import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OuroClient } from "../client-sdk/src/index";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../server/src/platform/embedded-postgres";
import { createLogger } from "../server/src/platform/logger";
import { query } from "./helpers/db";
import { createProject, startRun, startTestOuro, type TestOuro } from "./helpers/ouro";

// RELIABILITY.md cases 36 (PostgreSQL restarts while a run logs metrics) and 37 (the
// connection pool is exhausted): clients get a retryable UNAVAILABLE, never INTERNAL, and the
// server recovers by itself.

const LOG = `mutation($r: ID!, $p: [MetricInput!]!) { logMetrics(runId: $r, points: $p) { accepted duplicates } }`;

describe("every pooled connection busy", () => {
  let t: TestOuro;
  let projectId: string;
  beforeAll(async () => {
    t = await startTestOuro({ label: "rel-pool", env: { OURO_DB_POOL_SIZE: "3", OURO_DB_CONNECT_TIMEOUT_MS: "300" } });
    projectId = await createProject(t, "pool");
  });
  afterAll(() => t?.stop());

  it("answers UNAVAILABLE (503 with Retry-After over REST) while all connections are held, then works again", async () => {
    const runId = await startRun(t, projectId);
    // Hold all 3 connections of the server's pool with slow statements.
    const holders = Array.from({ length: 3 }, () => t.app.db.query("SELECT pg_sleep(6)"));
    let held = 0;
    for (let i = 0; i < 200 && held < 3; i++) {
      [{ n: held }] = await query<{ n: number }>(t.databaseUrl, "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query = 'SELECT pg_sleep(6)'");
      if (held < 3) await sleep(20);
    }
    expect(held).toBe(3);
    // GraphQL (the admin token is cached, so only the resolver needs the database).
    const busy = await t.gql(LOG, { r: runId, p: [{ key: "loss", step: 0, value: 1 }] });
    expect(busy.errors?.[0].extensions?.code).toBe("UNAVAILABLE");
    expect(busy.errors?.[0].message).toMatch(/database is busy or unreachable; retry/);
    expect(JSON.stringify(busy)).not.toMatch(/timeout exceeded|pg-pool|at \w+ \(/);
    // REST: a clear 503 with Retry-After, so proxies and SDKs back off and retry.
    const rest = await fetch(`${t.url.replace("/graphql", "")}/v1/artifacts/00000000-0000-0000-0000-000000000000`, { headers: { authorization: `Bearer ${t.adminToken}` } });
    expect(rest.status).toBe(503);
    expect(rest.headers.get("retry-after")).toBe("1");
    expect(((await rest.json()) as any).errors[0].extensions.code).toBe("UNAVAILABLE");

    await Promise.all(holders);
    const after = await t.gql(LOG, { r: runId, p: [{ key: "loss", step: 0, value: 1 }] });
    expect(after.errors).toBeUndefined();
    expect(after.data.logMetrics).toEqual({ accepted: 1, duplicates: 0 }); // the refused write left nothing behind
    const [{ n }] = await t.app.db.query("SELECT count(*)::int AS n FROM metric_points WHERE run_id = $1", [runId]);
    expect(n).toBe(1);
  });
});

describe("PostgreSQL restarting while a run logs metrics", () => {
  const log = createLogger("warn", "rel-pg-restart");
  let dir: string;
  let port: number;
  let pg: EmbeddedDatabase;
  let t: TestOuro;
  beforeAll(async () => {
    // A cluster of this test's own, so stopping it disturbs nobody else's tests.
    dir = await mkdtemp(path.join(os.tmpdir(), "ouro-pg-restart-"));
    port = 45000 + Math.floor(Math.random() * 5000);
    pg = await startEmbeddedPostgres(dir, port, log);
    t = await startTestOuro({ label: "rel-pg-restart", databaseUrl: pg.url, env: { OURO_DB_CONNECT_TIMEOUT_MS: "1000" } });
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    await pg?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("the SDK's run logger retries through the outage: every point stored exactly once, none lost", async () => {
    const projectId = await createProject(t, "restart");
    const client = new OuroClient({ url: t.url, token: t.adminToken, runs: { heartbeatIntervalMs: 0, batchSize: 50, flushIntervalMs: 20, maxRetries: 12 } });
    try {
      const run = await client.runs.start(projectId, "restart", { name: "through-a-restart" });
      let logged = 0;
      let restarted = false;
      // The training loop keeps logging while the database goes away and comes back, and
      // 500 points more after that.
      const producer = (async () => {
        let afterRestart = 0;
        for (let step = 0; !restarted || afterRestart < 500; step++) {
          run.logMetric("loss", 1 / (step + 1), step);
          logged = step + 1;
          if (restarted) afterRestart++;
          if (step % 10 === 9) await sleep(10);
        }
      })();
      while (logged < 600) await sleep(10);
      await pg.stop(); // fast shutdown: open connections are terminated mid-request
      // What a client sees meanwhile: a retryable UNAVAILABLE, not an internal error.
      const during = await t.gql(LOG, { r: run.id, p: [{ key: "probe", step: 0, value: 1 }] });
      const sawUnavailable = during.errors?.[0].extensions?.code;
      await sleep(1500);
      const loggedBeforeRestart = logged;
      pg = await startEmbeddedPostgres(dir, port, log);
      restarted = true;
      await producer;
      const N = logged;
      expect(N - loggedBeforeRestart).toBeGreaterThanOrEqual(500);
      await run.flush();
      expect(restarted).toBe(true);
      expect(sawUnavailable).toBe("UNAVAILABLE");
      expect(run.stats.retries).toBeGreaterThan(0); // the outage was really hit
      expect(run.stats).toMatchObject({ logged: N, pending: 0, dropped: 0 });
      expect(run.stats.accepted + run.stats.duplicates).toBe(N);

      const rows = (await t.app.db.query("SELECT step::int AS step, value FROM metric_points WHERE run_id = $1 AND key = 'loss' ORDER BY step", [run.id])) as { step: number; value: number }[];
      expect(rows.length).toBe(N);
      expect(rows.map((r) => r.step)).toEqual(Array.from({ length: N }, (_, i) => i));
      expect(rows.every((r) => Math.abs(r.value - 1 / (r.step + 1)) < 1e-9)).toBe(true);
      // The server is fully back: a new request, and the readiness probe.
      expect((await t.gql(`query($r: ID!) { run(id: $r) { status } }`, { r: run.id })).data.run.status).toBe("running");
      expect((await fetch(t.url.replace("/graphql", "/readyz"))).status).toBe(200);
    } finally {
      await client.close();
    }
  }, 120_000);
});
