/**
 * CPU accounting for the benchmarks, from Linux's /proc: who used the machine's cores while
 * a phase ran (the server, PostgreSQL, the bench itself, everything), and a wait for a quiet
 * machine before a phase starts. The machine may be shared; these figures show when it was.
 */
import { readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import type { BenchDatabase } from "./lib";

/** CPU time (user + system, ms) a process has used so far; Linux only (/proc, USER_HZ 100). */
export function processCpuMs(pid: number, withEndedChildren = false): number {
  const f = procStat(pid);
  if (!f) return NaN;
  return (f.utime + f.stime + (withEndedChildren ? f.cutime + f.cstime : 0)) * 10;
}

function procStat(pid: number) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number); // f[0] is field 3
    return { ppid: f[1], utime: f[11], stime: f[12], cutime: f[13], cstime: f[14] };
  } catch {
    return null; // gone
  }
}

const pids = () => readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number);

export function findProcess(match: (cmdline: string) => boolean): number | null {
  for (const pid of pids()) {
    try {
      if (match(readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " "))) return pid;
    } catch {
      // gone
    }
  }
  return null;
}

/** A process with its children, the ended ones included (PostgreSQL: one child per connection). */
export function processTreeCpuMs(root: number): number {
  let ms = processCpuMs(root, true);
  for (const pid of pids()) if (procStat(pid)?.ppid === root) ms += processCpuMs(pid, true) || 0;
  return ms;
}

/** CPU time (ms) all cores of the machine have spent busy (not idle, not waiting on I/O). */
function machineBusyMs(): number {
  const [, ...ticks] = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = ticks; // skips idle and iowait
  return (user + nice + system + irq + softirq + steal) * 10;
}

/**
 * CPU use while `fn` runs (100% = one core): the server process, the PostgreSQL cluster,
 * this process, and the whole machine (which includes anything else running on it).
 */
export async function withCpu<T>(
  serverPid: number,
  db: BenchDatabase,
  fn: () => Promise<T>,
): Promise<T & { serverCpu: number; pgCpu: number; benchCpu: number; machineCpu: number }> {
  const s0 = processCpuMs(serverPid);
  const p0 = db.cpuMs();
  const m0 = machineBusyMs();
  const b0 = process.cpuUsage();
  const t0 = performance.now();
  const result = await fn();
  const wall = performance.now() - t0;
  const b = process.cpuUsage(b0);
  const pct = (ms: number) => (ms / wall) * 100;
  const serverMs = processCpuMs(serverPid) - s0;
  const machineMs = machineBusyMs() - m0;
  // A backend whose client just closed may still be exiting; its time reaches the postmaster
  // once it has been reaped, so give it a moment (the wall time stays that of `fn`).
  await sleep(200);
  return { ...result, serverCpu: pct(serverMs), pgCpu: pct(db.cpuMs() - p0), benchCpu: pct((b.user + b.system) / 1000), machineCpu: pct(machineMs) };
}

/**
 * Waits (up to `maxWaitMs`) for a second in which the machine is nearly idle, since other
 * work on a shared 2-core machine skews every figure; returns the last second's busy CPU %.
 */
export async function waitForQuiet(maxWaitMs = 60_000, idleBelowPct = 20): Promise<number> {
  const end = performance.now() + maxWaitMs;
  for (;;) {
    const m0 = machineBusyMs();
    await sleep(1000);
    const busy = (machineBusyMs() - m0) / 10;
    if (busy < idleBelowPct || performance.now() > end) return busy;
  }
}
