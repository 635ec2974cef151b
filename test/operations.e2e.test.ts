import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createProject, startRun, startTestOuro, type TestOuro } from "./helpers/ouro";
import { spawnOuro } from "./helpers/process";

describe("operations", () => {
  let t: TestOuro;
  let projectId: string;
  beforeAll(async () => {
    t = await startTestOuro({ label: "ops", worker: true, env: { OURO_RUN_TIMEOUT_SECONDS: "5" } });
    projectId = await createProject(t, "ops");
  });
  afterAll(() => t?.stop());

  it("marks a run that went silent as failed, and leaves a run that heartbeats alone", async () => {
    const silent = await startRun(t, projectId);
    const alive = await startRun(t, projectId);
    for (let i = 0; i < 8; i++) {
      await t.gql(`mutation($r: ID!) { heartbeatRun(runId: $r) { id } }`, { r: alive });
      await sleep(1000);
    }
    const r = await t.gql(`query($a: ID!, $b: ID!) { a: run(id: $a) { status statusReason finishedAt } b: run(id: $b) { status } }`, { a: silent, b: alive });
    expect(r.data.a.status).toBe("failed");
    expect(r.data.a.statusReason).toContain("no heartbeat");
    expect(r.data.b.status).toBe("running");
    const trail = await t.gql(`query($p: ID!) { auditTrail(projectId: $p, first: 100) { action targetId actorId } }`, { p: projectId });
    expect(trail.data.auditTrail).toContainEqual({ action: "run.reaped", targetId: silent, actorId: null });
  }, 30_000);

  it("exposes request, GraphQL, job and queue figures to Prometheus", async () => {
    await t.gql(`{ viewer { id } }`);
    const res = await fetch(t.url.replace("/graphql", "/metrics"), { headers: { authorization: `Bearer ${t.adminToken}` } });
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const name of ["ouro_http_requests_total", "ouro_http_request_duration_seconds", "ouro_graphql_operations_total", "ouro_jobs_queued", "ouro_workers_alive", "ouro_process_cpu_user_seconds_total"]) {
      expect(text).toContain(name);
    }
    expect(text).toMatch(/ouro_workers_alive \d+/);
    expect(text).toMatch(/ouro_graphql_operations_total\{type="query",outcome="ok"\} \d+/);
  });

  it("`ouro token create` makes a user and a token that works", async () => {
    const cli = spawnOuro(["token", "create", "--email", "ci@example.com", "--name", "CI"], { DATABASE_URL: t.databaseUrl });
    expect(await cli.exited).toBe(0);
    const token = cli.output().trim().split("\n").pop()!;
    expect(token).toMatch(/^ouro_[\w-]{40,}$/);
    const me = await t.gql(`{ viewer { email isAdmin } }`, {}, token);
    expect(me.data.viewer).toEqual({ email: "ci@example.com", isAdmin: false });
  });

  it("`ouro start` on its own embedded PostgreSQL drains on SIGTERM and exits 0, database stopped last", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "ouro-start-"));
    const pgPort = String(58000 + Math.floor(Math.random() * 1000));
    const env = { OURO_DATA_DIR: dir, OURO_EMBEDDED_PG_PORT: pgPort, DATABASE_URL: "" };
    const first = spawnOuro(["start"], env);
    const token = (await first.waitFor(/First admin API token[^\n]*\n\s+(ouro_\S+)/, 60_000))[1];
    const url = (await first.waitFor(/Ouro is ready at (\S+)/))[1];
    const me = await fetch(url, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${token}` }, body: '{"query":"{ viewer { isAdmin } }"}' });
    expect(((await me.json()) as any).data.viewer.isAdmin).toBe(true);
    first.child.kill("SIGTERM");
    expect(await first.exited, first.output().slice(-3000)).toBe(0);
    expect(first.output()).toContain('"msg":"stopped"');
    // The database stops after this process's sessions have closed, not by cutting them off
    // (a session cut off while its pool was closing crashed the process: exit code 1).
    expect(first.output()).not.toContain("terminating connection due to administrator command");

    // Again on the same data: no new admin token, same database.
    const second = spawnOuro(["start"], env);
    await second.waitFor(/Ouro is ready at/, 60_000);
    expect(second.output()).not.toContain("First admin API token");
    // SIGTERM the moment it is ready, while its background work is still starting.
    second.child.kill("SIGTERM");
    expect(await second.exited, second.output().slice(-3000)).toBe(0);
    expect(second.output()).not.toContain("terminating connection due to administrator command");
    await rm(dir, { recursive: true, force: true });
  }, 120_000);
});
