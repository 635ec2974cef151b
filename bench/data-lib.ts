/**
 * Helpers of the data benchmarks (flights.ts, online-features.ts), on top of lib.ts: a server
 * whose processes report their peak RSS (rss-probe.cjs), jobs followed to the end with their
 * timings, the CPU that other processes use meanwhile (a shared machine), child processes that
 * print JSON, and clean-up when interrupted. Nothing here measures anything by itself.
 */
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { type BenchDatabase, type BenchServer, NODE, ROOT, sleep, startDatabase, startServer } from "./lib";

/** What rss-probe.cjs writes for each process as it exits. */
export interface ProcessReport {
  pid: number;
  ppid: number;
  code: number;
  maxRssKb: number;
  cpuMs: number;
  startMs: number;
  endMs: number;
}

/** Reads the probe's log; `next()` returns the processes that exited since the last call. */
export class ProbeLog {
  private seen = 0;
  constructor(readonly file: string) {}
  next(): ProcessReport[] {
    if (!existsSync(this.file)) return [];
    const lines = readFileSync(this.file, "utf8").split("\n").filter(Boolean);
    const fresh = lines.slice(this.seen).map((l) => JSON.parse(l) as ProcessReport);
    this.seen = lines.length;
    return fresh;
  }
}

const interrupted: (() => Promise<void>)[] = [];
let handlingSignals = false;

/**
 * Registers `cleanup` to run if the benchmark is interrupted (SIGINT/SIGTERM), newest first,
 * so that an interrupted run leaves no server, database or temp dir behind; returns the
 * function that unregisters it (call it once the normal path has cleaned up).
 */
export function onInterrupt(cleanup: () => Promise<unknown>): () => void {
  const entry = async () => void (await cleanup().catch(() => undefined));
  if (!handlingSignals) {
    handlingSignals = true;
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      process.once(signal, async () => {
        for (const fn of [...interrupted].reverse()) await fn();
        process.exit(signal === "SIGINT" ? 130 : 143);
      });
    }
  }
  interrupted.push(entry);
  return () => void interrupted.splice(interrupted.indexOf(entry), 1);
}

/**
 * A fresh database and a server with an in-process worker for `fn`. With a `probe`, the
 * server and every task subprocess it forks preload rss-probe.cjs, which logs each one's peak
 * RSS there.
 */
export async function withDataServer<T>(env: Record<string, string>, probe: ProbeLog | null, fn: (server: BenchServer, db: BenchDatabase) => Promise<T>): Promise<T> {
  const db = await startDatabase();
  const forgetDb = onInterrupt(() => db.stop());
  try {
    const probing: Record<string, string> = probe ? { NODE_OPTIONS: `--require ${path.join(__dirname, "rss-probe.cjs")}`, BENCH_RSS_LOG: probe.file } : {};
    const server = await startServer(db.url, {
      worker: true,
      // A failing job fails the benchmark instead of being retried.
      env: { ...env, OURO_JOB_MAX_ATTEMPTS: "1", ...probing },
    });
    const forgetServer = onInterrupt(() => server.stop());
    try {
      return await fn(server, db);
    } finally {
      await server.stop();
      forgetServer();
    }
  } finally {
    await db.stop();
    forgetDb();
  }
}

export interface JobRun {
  id: string;
  result: Record<string, any>;
  /** startedAt → finishedAt as the database recorded them: the worker's whole handler. */
  jobMs: number;
  startedAtMs: number;
  finishedAtMs: number;
  /** Task subprocesses that ran for this job, with their own peak RSS and CPU time. */
  processes: ProcessReport[];
}

/** Sends a mutation that returns a Job and polls the job until it ends (bounded). */
export async function runJob(server: BenchServer, mutation: string, variables: Record<string, unknown>, probe?: ProbeLog, timeoutMs = 30 * 60_000): Promise<JobRun> {
  probe?.next(); // forget processes that ended before this job
  const sent = performance.now();
  const data = await server.gql<Record<string, { id: string }>>(mutation, variables);
  const id = Object.values(data)[0].id;
  for (;;) {
    const { job } = await server.gql(`query($id: ID!) { job(id: $id) { status error result startedAt finishedAt } }`, { id });
    if (job.status === "failed" || job.status === "cancelled") throw new Error(`job ${id} ${job.status}: ${job.error}`);
    if (job.status === "succeeded") {
      if (probe) await sleep(300); // a subprocess writes its report as it exits, just after sending its result
      const processes = probe ? probe.next().filter((p) => p.ppid === server.pid) : [];
      const [startedAtMs, finishedAtMs] = [Date.parse(job.startedAt), Date.parse(job.finishedAt)];
      return { id, result: job.result, jobMs: finishedAtMs - startedAtMs, startedAtMs, finishedAtMs, processes };
    }
    if (performance.now() - sent > timeoutMs) throw new Error(`job ${id} did not end in ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Peak RSS (KiB) a process has reached so far (VmHWM), or NaN when it is gone. */
export function peakRssKb(pid: number): number {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

/** Busy CPU time (ms) of the whole machine so far: every core, every process, the kernel. */
function machineBusyMs(): number {
  const t = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  return (t[0] + t[1] + t[2] + t[5] + t[6] + t[7]) * 10; // user nice system irq softirq steal
}

/**
 * CPU time (ms) used so far by this process and its descendants, the ended ones included
 * (a reaped child's time is added to its parent's cutime/cstime by the kernel).
 */
function ourTreeCpuMs(): number {
  const procs = new Map<number, { ppid: number; ms: number }>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number); // f[0] is field 3
      procs.set(Number(d), { ppid: f[1], ms: (f[11] + f[12] + f[13] + f[14]) * 10 });
    } catch {
      // gone
    }
  }
  const ours = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const [pid, p] of procs) {
      if (!ours.has(pid) && ours.has(p.ppid)) {
        ours.add(pid);
        grew = true;
      }
    }
  }
  let ms = 0;
  for (const pid of ours) ms += procs.get(pid)?.ms ?? 0;
  return ms;
}

/**
 * Starts a clock of the CPU that *other* work uses: the machine's busy time minus this
 * process and its descendants (servers, PostgreSQL, task subprocesses, baseline children).
 * On a shared machine that is someone else's benchmark or tests. Call it to read the % of
 * one core used since (2 cores: at most 200%).
 */
export function othersCpu(): () => number {
  const m0 = machineBusyMs();
  const o0 = ourTreeCpuMs();
  const t0 = performance.now();
  return () => Math.max(0, ((machineBusyMs() - m0 - (ourTreeCpuMs() - o0)) / (performance.now() - t0)) * 100);
}

/** Runs a command; resolves with its stdout and exit code (never rejects on a non-zero code). */
export function runChild(cmd: string, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...opts.env }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 10 * 60_000);
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs this repository's TypeScript file `script` in a fresh Node (the one running us). */
export const runTs = (script: string, args: string[]) => runChild(NODE, ["-r", "@swc-node/register", path.join(ROOT, script), ...args]);

/** The last line of a child's stdout, parsed as JSON (children print their report last). */
export function lastJson<T>(out: { code: number | null; stdout: string; stderr: string }, what: string): T {
  const line = out.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`${what} exited ${out.code} without a JSON report:\n${out.stdout}\n${out.stderr}`);
  }
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
export const mib = (kb: number) => (Number.isFinite(kb) ? `${Math.round(kb / 1024).toLocaleString("en-US")} MiB` : "-");
