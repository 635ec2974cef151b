import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, describe, expect, it } from "vitest";
import { runInSubprocess, setSubprocessSpares, stopSpares } from "./subprocess";
import { JobCancelledError } from "./tasks";

const FIXTURE = path.resolve(__dirname, "../../../test/fixtures/warm-task.ts");
type Stamp = { loadedAt: number; calledAt: number; calls: number; pid: number };
const stamp = () => runInSubprocess<{ calledAt: number }, Stamp>(FIXTURE, "stamp", { calledAt: Date.now() });
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe("task subprocesses with warm spares", () => {
  afterAll(() => setSubprocessSpares(true));

  it("runs the next job of a module in a process that loaded it beforehand, still one job per process", async () => {
    setSubprocessSpares(true);
    const first = await stamp();
    expect(first.calls).toBe(1);
    expect(first.loadedAt).toBeGreaterThanOrEqual(first.calledAt); // cold: loaded after the call
    // The spare loads while nothing waits; give it time (bounded), then it is taken.
    let warm: Stamp | null = null;
    const pids = new Set([first.pid]);
    // (A loaded machine may need seconds to start one: wait longer each time.)
    for (let i = 1; i <= 8 && warm === null; i++) {
      await sleep(1000 * i);
      const next = await stamp();
      expect(pids.has(next.pid)).toBe(false); // never a process that already ran a job
      pids.add(next.pid);
      expect(next.calls).toBe(1); // nothing carried over from another job
      if (next.loadedAt < next.calledAt) warm = next;
    }
    expect(warm).not.toBeNull();
    await sleep(200);
    for (const pid of pids) expect(alive(pid)).toBe(false); // each exited after its one job
  }, 90_000);

  it("keeps errors, cancellation and the no-spares mode as before", async () => {
    setSubprocessSpares(true);
    await stamp();
    await sleep(3000); // let the spare load
    await expect(runInSubprocess(FIXTURE, "fail", {})).rejects.toThrow("failed on purpose");
    await expect(runInSubprocess(FIXTURE, "nope", {})).rejects.toThrow("nope is not a function");
    // Cancel a job running in a (possibly warm) process: it is killed.
    const controller = new AbortController();
    let pid = 0;
    const cancelled = runInSubprocess(path.resolve(__dirname, "../../../test/fixtures/cpu-task.ts"), "countPrimes", { limit: 1e9 }, {
      signal: controller.signal,
      onSpawn: (p) => (pid = p),
    });
    await sleep(500);
    controller.abort();
    await expect(cancelled).rejects.toBeInstanceOf(JobCancelledError);
    await sleep(200);
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(false);

    setSubprocessSpares(false); // also stops the idle spares
    await sleep(1000);
    const cold = await stamp();
    expect(cold.loadedAt).toBeGreaterThanOrEqual(cold.calledAt);
    stopSpares();
  }, 90_000);
});
