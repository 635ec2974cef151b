/**
 * Start to ready: `node server/bin/ouro.js start` as a user runs it, with the embedded
 * PostgreSQL, until it prints "Ouro is ready". The data dir is initialised by a first start
 * (initdb + migrations, timed and shown apart), so the timed starts are warm restarts.
 *
 *   node -r @swc-node/register bench/startup.ts [--starts=5]
 *
 * Every start is stopped with SIGTERM and waited for (the stop is timed too), and the next
 * one begins only once the PostgreSQL port is free again, so no start reuses a running
 * cluster. Baseline, same run: `node -e 0` with the same node binary.
 */
import { spawn } from "node:child_process";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { arg, fmt, freePort, NODE, portIsFree, ROOT, sleep, stats, stopChild, table } from "./lib";
import { waitForQuiet } from "./cpu";

const STARTS = arg("starts", 5);
const STOP_AFTER_READY_MS = 500;

interface Start {
  readyMs: number; // spawn → "Ouro is ready" on stdout
  pgMs: number; // spawn → "embedded PostgreSQL started" log line
  startOuroMs: number; // the server's own figure: inside startOuro (database, migrations, schema, listen)
  stopMs: number; // SIGTERM → exit
  exitCode: number | null;
  errorLines: number;
  background: number; // machine busy % in the second before the start
}

async function startOnce(dataDir: string, pgPort: number): Promise<Start> {
  const background = await waitForQuiet();
  const env: NodeJS.ProcessEnv = { ...process.env, OURO_DATA_DIR: dataDir, OURO_PORT: "0", OURO_EMBEDDED_PG_PORT: String(pgPort), OURO_LOG_LEVEL: "info" };
  delete env.DATABASE_URL; // the embedded database is the point
  delete env.NODE_OPTIONS;
  const t0 = Date.now(); // Date.now, not performance.now: the server's log times are Date.now too
  const child = spawn(NODE, [path.join(ROOT, "server/bin/ouro.js"), "start"], { cwd: ROOT, env, stdio: ["ignore", "pipe", "inherit"] });
  const closed = new Promise((resolve) => child.once("close", resolve));
  // Resolves once stdout has said "Ouro is ready" and the log has given startOuro's own
  // figure (pino may write that line just after the console line).
  let errorLines = 0; // log lines at level error or above, up to the exit
  const timings = await new Promise<{ readyMs: number; pgMs: number; startOuroMs: number }>((resolve, reject) => {
    const t = { readyMs: NaN, pgMs: NaN, startOuroMs: NaN };
    const timer = setTimeout(() => reject(new Error("not ready within 120 s")), 120_000);
    const done = () => {
      if (Number.isNaN(t.readyMs) || Number.isNaN(t.startOuroMs)) return;
      clearTimeout(timer);
      resolve(t);
    };
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`ouro start exited with ${code} before it was ready`));
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      if (line.includes("Ouro is ready")) t.readyMs = Date.now() - t0;
      if (line.startsWith("{")) {
        const entry = JSON.parse(line) as { msg?: string; time?: number; ms?: number; level?: number };
        if (entry.msg === "embedded PostgreSQL started" && entry.time) t.pgMs = entry.time - t0;
        if (entry.msg === "Ouro ready" && entry.ms !== undefined) t.startOuroMs = entry.ms;
        if (entry.msg?.includes("reusing")) reject(new Error("a PostgreSQL from an earlier start was still running"));
        if ((entry.level ?? 0) >= 50) errorLines++;
      }
      done();
    });
  }).catch(async (err: unknown) => {
    await stopChild(child); // never leave a server (and its PostgreSQL) behind
    throw err;
  });
  // `ouro start` installs its SIGTERM handler only after printing "ready"; a SIGTERM in that
  // gap kills it outright and orphans PostgreSQL (see docs/benchmarks.md). Not what we time.
  await sleep(STOP_AFTER_READY_MS);
  const s0 = Date.now();
  const exitCode = await stopChild(child);
  const stopMs = Date.now() - s0;
  await closed; // every output line read
  // Wait for PostgreSQL to let go of its port, so the next start starts it afresh.
  for (let i = 0; i < 150 && !(await portIsFree(pgPort)); i++) await sleep(100);
  if (!(await portIsFree(pgPort))) throw new Error(`PostgreSQL still holds port ${pgPort} 15 s after ouro exited (${exitCode ?? child.signalCode})`);
  return { ...timings, stopMs, exitCode, errorLines, background };
}

async function nodeBaseline(): Promise<number> {
  const t0 = performance.now();
  await new Promise<void>((resolve, reject) => spawn(NODE, ["-e", "0"], { stdio: "ignore" }).once("exit", (c) => (c === 0 ? resolve() : reject(new Error(`node -e 0 exited ${c}`)))));
  return performance.now() - t0;
}

async function main() {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "ouro-bench-start-"));
  await chmod(dataDir, 0o755); // as root, PostgreSQL runs as `postgres` and must enter it
  const pgPort = await freePort();
  try {
    const first = await startOnce(dataDir, pgPort);
    const starts: Start[] = [];
    for (let i = 0; i < STARTS; i++) starts.push(await startOnce(dataDir, pgPort));
    const baseline: number[] = [];
    await waitForQuiet();
    for (let i = 0; i < STARTS; i++) baseline.push(await nodeBaseline());

    const b = stats(baseline);
    const row = (name: string, s: ReturnType<typeof stats>) => [name, s.n, fmt(s.p50, 0), fmt(s.max, 0), fmt(s.p50 / b.p50, 1)];
    const pick = (f: (s: Start) => number) => stats(starts.map(f));
    console.log(`\n### Start to ready: \`node server/bin/ouro.js start\`, embedded PostgreSQL, initialised data dir (${STARTS} starts)\n`);
    console.log(
      table(["measure", "n", "median ms", "max ms", "ratio vs `node -e 0`"], [
        row("`node -e 0` (baseline)", b),
        row("**spawn → \"Ouro is ready\"**", pick((s) => s.readyMs)),
        row("spawn → embedded PostgreSQL started", pick((s) => s.pgMs)),
        row("process boot: node, SWC, imports (ready − startOuro)", pick((s) => s.readyMs - s.startOuroMs)),
        row("inside startOuro (DB, migrations check, schema, listen)", pick((s) => s.startOuroMs)),
        row("stop: SIGTERM → exit", pick((s) => s.stopMs)),
      ]),
    );
    console.log(`\nFirst start on an empty data dir (initdb + migrations): ${first.readyMs} ms to ready; PostgreSQL up after ${first.pgMs} ms.`);
    console.log(`Exit codes after SIGTERM: ${[first, ...starts].map((s) => s.exitCode).join(", ")}; error log lines per start: ${[first, ...starts].map((s) => s.errorLines).join(", ")}.`);
    console.log(`Machine busy in the second before each timed start (%, 100 = one core): ${starts.map((s) => fmt(s.background, 0)).join(", ")}.`);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
