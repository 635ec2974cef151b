/**
 * An Ouro server in a process of its own, for the benchmarks. The load generators and the
 * subscribers run in the parent, so they do not share (and slow) the server's event loop —
 * as with a real client. Configuration comes from the environment, as for `ouro start`;
 * BENCH_WORKER=1 adds the in-process job worker.
 *
 * Prints one line `BENCH_READY {"url": ..., "token": ...}` when it accepts requests, and
 * drains and exits on SIGTERM.
 */
import "reflect-metadata";
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import path from "node:path";
import { monitorEventLoopDelay, PerformanceObserver, type PerformanceEntry } from "node:perf_hooks";
import { startOuro } from "../server/src/app/ouro";
import { readConfig } from "../server/src/platform/config";
import { createLogger } from "../server/src/platform/logger";

async function main(): Promise<void> {
  const config = readConfig(process.env);
  const log = createLogger(config.logLevel, "ouro-bench");
  const ouro = await startOuro(config, log, { worker: process.env.BENCH_WORKER === "1" });
  if (process.env.BENCH_PROFILE_DIR) profileOnSignal(process.env.BENCH_PROFILE_DIR);
  process.stdout.write(`BENCH_READY ${JSON.stringify({ url: ouro.url, token: ouro.firstToken })}\n`);
  // Only the first signal counts; a repeat (from any handler re-raising it) must not cut the
  // drain short.
  let stopping = false;
  process.on("SIGTERM", () => {
    if (stopping) return;
    stopping = true;
    ouro.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  });
}

/**
 * SIGUSR2 starts a CPU profile, the next SIGUSR2 writes it to `dir` (server-<time>.cpuprofile):
 * a profile of the load phase alone, without startup or shutdown. Over the same window it
 * records garbage-collection pauses and event-loop delay, printed as one BENCH_GC line.
 */
function profileOnSignal(dir: string): void {
  const session = new Session();
  session.connect();
  let running = false;
  let gcs: PerformanceEntry[] = [];
  const observer = new PerformanceObserver((list) => gcs.push(...list.getEntries()));
  const loop = monitorEventLoopDelay({ resolution: 1 });
  let started = 0;
  process.on("SIGUSR2", () => {
    if (!running) {
      running = true;
      gcs = [];
      started = performance.now();
      observer.observe({ entryTypes: ["gc"] });
      loop.reset();
      loop.enable();
      session.post("Profiler.enable", () => session.post("Profiler.start"));
      return;
    }
    running = false;
    observer.disconnect();
    loop.disable();
    const seconds = (performance.now() - started) / 1000;
    // detail.kind: 1 minor (scavenge), 2 major (mark-compact), 4 incremental marking, 8 weak callbacks.
    const byKind = new Map<number, number[]>();
    for (const e of gcs) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0;
      byKind.set(kind, [...(byKind.get(kind) ?? []), e.duration]);
    }
    const gc = Object.fromEntries([...byKind].map(([kind, ds]) => [kind === 1 ? "minor" : kind === 2 ? "major" : kind === 4 ? "incremental" : `kind${kind}`, { count: ds.length, totalMs: +ds.reduce((a, b) => a + b, 0).toFixed(1), maxMs: +Math.max(...ds).toFixed(2) }]));
    const ms = (ns: number) => +(ns / 1e6).toFixed(2);
    process.stdout.write(`BENCH_GC ${JSON.stringify({ seconds: +seconds.toFixed(1), gc, eventLoopDelayMs: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) } })}\n`);
    session.post("Profiler.stop", (err, result) => {
      if (!err) writeFileSync(path.join(dir, `server-${Date.now()}.cpuprofile`), JSON.stringify(result.profile));
      process.stdout.write(`BENCH_PROFILE_WRITTEN\n`);
    });
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
