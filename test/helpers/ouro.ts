import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { startOuro, type RunningOuro } from "../../server/src/app/ouro";
import { readConfig } from "../../server/src/platform/config";
import { freshDatabase } from "./db";

export interface TestOuro extends RunningOuro {
  databaseUrl: string;
  adminToken: string;
  wsUrl: string;
  /** Every log line the server wrote, as text. */
  logs: string[];
  gql<T = any>(query: string, variables?: Record<string, unknown>, token?: string | null): Promise<GqlResponse<T>>;
  ws(token?: string | null): Client;
}

export interface GqlResponse<T> {
  status: number;
  data?: T;
  errors?: { message: string; extensions?: { code?: string; requestId?: string; [k: string]: unknown } }[];
}

/** A real Ouro on a port of its own, with a database of its own. */
export async function startTestOuro(
  opts: { worker?: boolean; env?: Record<string, string>; databaseUrl?: string; label?: string } = {},
): Promise<TestOuro> {
  const databaseUrl = opts.databaseUrl ?? (await freshDatabase(opts.label));
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "ouro-test-"));
  const config = readConfig({
    OURO_ENV: "test",
    DATABASE_URL: databaseUrl,
    OURO_DATA_DIR: dataDir,
    OURO_PORT: "0",
    OURO_LOG_LEVEL: "info",
    OURO_DB_POOL_SIZE: "5",
    ...opts.env,
  });
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(chunk.toString());
      cb();
    },
  });
  const log = pino({ level: "info", redact: { paths: ["req.headers.authorization", "token", "*.token"], censor: "[redacted]" } }, sink);
  const ouro = await startOuro(config, log as never, { worker: opts.worker ?? false });
  const wsUrl = ouro.url.replace(/^http/, "ws");
  const t: TestOuro = {
    ...ouro,
    databaseUrl,
    adminToken: ouro.firstToken!,
    wsUrl,
    logs,
    async gql(query, variables, token = ouro.firstToken) {
      const res = await fetch(ouro.url, {
        method: "POST",
        headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as Omit<GqlResponse<never>, "status">;
      return { status: res.status, ...body };
    },
    ws(token = ouro.firstToken) {
      return createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        connectionParams: token ? { authorization: `Bearer ${token}` } : {},
        retryAttempts: 0,
        lazy: true,
      });
    },
  };
  return t;
}

/** Collects `n` events of a subscription (or until it ends or times out). */
export function take<T = any>(client: Client, query: string, variables: Record<string, unknown>, n: number, timeoutMs = 15_000): Promise<{ events: T[]; errors: unknown[] }> {
  return new Promise((resolve) => {
    const events: T[] = [];
    const errors: unknown[] = [];
    let dispose = () => undefined as void;
    const timer = setTimeout(() => finish(), timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      dispose();
      resolve({ events, errors });
    };
    dispose = client.subscribe<T>(
      { query, variables },
      {
        next: (v) => {
          if (v.errors) errors.push(...v.errors);
          if (v.data) events.push(v.data as T);
          if (events.length >= n) finish();
        },
        error: (e) => {
          errors.push(e);
          finish();
        },
        complete: () => finish(),
      },
    );
  });
}

/** Creates a project and returns its id. */
export async function createProject(t: TestOuro, name: string, token = t.adminToken): Promise<string> {
  const r = await t.gql<{ createProject: { id: string } }>(`mutation($n: String!) { createProject(input: { name: $n }) { id } }`, { n: name }, token);
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  return r.data.createProject.id;
}

export async function startRun(t: TestOuro, projectId: string, token = t.adminToken): Promise<string> {
  const r = await t.gql<{ startRun: { id: string } }>(
    `mutation($p: ID!) { startRun(input: { projectId: $p, experiment: "exp" }) { id } }`,
    { p: projectId },
    token,
  );
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  return r.data.startRun.id;
}

export async function newUserToken(t: TestOuro, email: string): Promise<string> {
  await t.gql(`mutation($e: String!) { createUser(input: { email: $e, name: "User" }) { id } }`, { e: email });
  const users = await t.app.db.query("SELECT id FROM users WHERE email = $1", [email]);
  const r = await t.gql<{ createApiToken: { token: string } }>(
    `mutation($u: ID!) { createApiToken(input: { name: "t", userId: $u }) { token } }`,
    { u: users[0].id },
  );
  if (!r.data) throw new Error(JSON.stringify(r.errors));
  return r.data.createApiToken.token;
}

export function points(key: string, from: number, count: number) {
  return Array.from({ length: count }, (_, i) => ({ key, step: from + i, value: Math.sin((from + i) / 10) }));
}

/** Polls a job until it ends; returns { status, error, result }. */
export async function waitForJob(t: TestOuro, jobId: string, timeoutMs = 90_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await t.gql(`query($id: ID!) { job(id: $id) { status error result } }`, { id: jobId });
    if (!r.data) throw new Error(JSON.stringify(r.errors));
    if (["succeeded", "failed", "cancelled"].includes(r.data.job.status)) return r.data.job;
    if (Date.now() > deadline) throw new Error(`job ${jobId} still ${r.data.job.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

