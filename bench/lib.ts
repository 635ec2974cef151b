/**
 * Shared pieces of the benchmarks: a throwaway embedded PostgreSQL, an Ouro server in a child
 * process, a GraphQL client, and percentile / table helpers. Nothing here measures anything.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { createClient, type Client } from "graphql-ws";
import WebSocket from "ws";
import { startEmbeddedPostgres } from "../server/src/platform/embedded-postgres";
import { createLogger } from "../server/src/platform/logger";
import { findProcess, processTreeCpuMs } from "./cpu";

export const ROOT = path.resolve(__dirname, "..");
/** The node binary running this script; children use the same one. */
export const NODE = process.execPath;

export function portIsFree(port: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const s = net.createServer().once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });
}

/** A port in [from, to) that nothing listens on right now (tests use 55000-60000 too). */
export async function freePort(from = 56000, to = 60000): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const port = from + Math.floor(Math.random() * (to - from));
    if (await portIsFree(port)) return port;
  }
  throw new Error("no free port found");
}

export interface BenchDatabase {
  url: string;
  /** CPU time (ms) used so far by this cluster: postmaster, live and ended backends. */
  cpuMs(): number;
  stop(): Promise<void>;
}

/** A fresh embedded PostgreSQL in a temp dir; stop() also deletes the dir. */
export async function startDatabase(): Promise<BenchDatabase> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "ouro-bench-pg-"));
  // mkdtemp makes it 0700; as root, PostgreSQL runs as the `postgres` user and must enter it.
  await chmod(dir, 0o755);
  const db = await startEmbeddedPostgres(dir, await freePort(), createLogger("warn", "bench-pg"));
  const postmaster = findProcess((cmd) => cmd.includes("postgres") && cmd.includes(path.join(dir, "pg")));
  return {
    url: db.url,
    cpuMs: () => (postmaster ? processTreeCpuMs(postmaster) : NaN),
    async stop() {
      await db.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface BenchServer {
  pid: number;
  url: string;
  wsUrl: string;
  token: string;
  gql<T = any>(query: string, variables?: Record<string, unknown>): Promise<T>;
  ws(): Client;
  stop(): Promise<void>;
}

/** Starts bench/serve.ts (which calls startOuro) against `databaseUrl`. */
export async function startServer(databaseUrl: string, opts: { worker?: boolean; env?: Record<string, string> } = {}): Promise<BenchServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "ouro-bench-data-"));
  const child = spawn(NODE, ["-r", "@swc-node/register", path.join(ROOT, "bench/serve.ts")], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_URL: databaseUrl,
      OURO_ENV: "production", // what a deployment runs: no landing page, no introspection
      OURO_PORT: "0",
      OURO_DATA_DIR: dataDir,
      OURO_LOG_LEVEL: "warn",
      BENCH_WORKER: opts.worker ? "1" : "0",
      // e.g. BENCH_SERVER_NODE_OPTIONS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server alone
      NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS ?? "",
      ...opts.env,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const ready = new Promise<{ url: string; token: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("bench server not ready within 120 s")), 120_000);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`bench server exited with ${code} before it was ready`));
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.startsWith("BENCH_READY ")) {
        clearTimeout(timer);
        resolve(JSON.parse(line.slice(12)));
      } else process.stderr.write(`[server] ${line}\n`); // warnings and errors stay visible
    });
  });
  const { url, token } = await ready.catch(async (err: unknown) => {
    await stopChild(child);
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  });
  const wsUrl = url.replace(/^http/, "ws");
  return {
    pid: child.pid!,
    url,
    wsUrl,
    token,
    async gql(query, variables) {
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { data?: any; errors?: unknown[] };
      if (body.errors?.length || !body.data) throw new Error(`GraphQL error (${res.status}): ${JSON.stringify(body.errors)}`);
      return body.data;
    },
    ws: () => createClient({ url: wsUrl, webSocketImpl: WebSocket, connectionParams: { authorization: `Bearer ${token}` }, retryAttempts: 0 }),
    async stop() {
      await stopChild(child);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A fresh database and a server on it for `fn`; both are stopped whatever happens. */
export async function withServer<T>(opts: { worker?: boolean }, fn: (server: BenchServer, db: BenchDatabase) => Promise<T>): Promise<T> {
  const db = await startDatabase();
  try {
    const server = await startServer(db.url, opts);
    try {
      return await fn(server, db);
    } finally {
      await server.stop();
    }
  } finally {
    await db.stop();
  }
}

/** SIGTERM, then wait for the exit (SIGKILL after 30 s so a benchmark never hangs). */
export async function stopChild(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

export const Q = {
  createProject: `mutation($n: String!) { createProject(input: { name: $n }) { id } }`,
  startRun: `mutation($p: ID!) { startRun(input: { projectId: $p, experiment: "exp" }) { id } }`,
  logMetrics: `mutation($r: ID!, $p: [MetricInput!]!) { logMetrics(runId: $r, points: $p) { accepted duplicates cursor } }`,
};

export async function newRun(server: BenchServer, projectId: string): Promise<string> {
  return (await server.gql<{ startRun: { id: string } }>(Q.startRun, { p: projectId })).startRun.id;
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function stats(samples: number[]): { n: number; p50: number; p99: number; max: number; mean: number } {
  const s = [...samples].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN, mean };
}

/** Wall-clock milliseconds with sub-millisecond resolution (Date.now() has whole ms only). */
export const wallMs = () => performance.timeOrigin + performance.now();

export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "-");
export const int = (n: number) => Math.round(n).toLocaleString("en-US");

export function table(headers: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(" | ")} |`;
  return [line(headers), line(headers.map(() => "---")), ...rows.map(line)].join("\n");
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Integer command-line option `--name=value`, with a default. */
export function arg(name: string, fallback: number): number {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  const n = hit ? Number(hit.split("=")[1]) : fallback;
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number`);
  return n;
}
