import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { OuroError, type ErrorCode } from "./errors";
import { JobCancelledError } from "./tasks";

export type SubprocessProgress = (fraction: number, message?: string) => void;

// Starting a task process costs 0.3–0.7 s of CPU before the work begins: Node, the TypeScript
// compiler hook (@swc-node/register), then compiling and loading the work module and what it
// imports (polars, TensorFlow.js). So after a job of a module ends, a spare child is started
// for that module and loads it while nothing waits; the next job of that module takes the
// spare and starts at once. Each spare still runs exactly one job and exits, like a cold one:
// a job never sees another job's state, and cancelling is still a plain SIGKILL.
/** Spares kept at most (one per work module, the least recently used goes first). */
const MAX_SPARES = 3;
/** A spare nobody took in this time is stopped (it holds memory: polars, tfjs). */
const SPARE_IDLE_MS = 120_000;
const ENTRY = path.join(__dirname, "subprocess-entry.js");

interface Spare {
  child: ChildProcess;
  timer: NodeJS.Timeout;
}

const spares = new Map<string, Spare>();
let sparesEnabled = process.env.OURO_TASK_SPARES !== "0";

/** Turns warm spares on or off (off: every job forks and loads its module from scratch). Stops idle spares when off. */
export function setSubprocessSpares(enabled: boolean): void {
  sparesEnabled = enabled;
  if (!enabled) stopSpares();
}

/** Stops every idle spare (e.g. on shutdown; they also exit by themselves when this process dies). */
export function stopSpares(): void {
  for (const [key, spare] of spares) {
    spares.delete(key);
    clearTimeout(spare.timer);
    spare.child.kill("SIGKILL");
  }
}

function forkChild(): ChildProcess {
  return fork(ENTRY, [], { execArgv: [], serialization: "advanced", stdio: ["ignore", "inherit", "inherit", "ipc"] });
}

/** An idle spare must not keep this process alive, nor its channel. */
function setRef(child: ChildProcess, ref: boolean): void {
  const channel = child.channel as { ref?: () => void; unref?: () => void } | undefined;
  if (ref) {
    child.ref();
    channel?.ref?.();
  } else {
    child.unref();
    channel?.unref?.();
  }
}

function takeSpare(modulePath: string): ChildProcess | null {
  const spare = spares.get(modulePath);
  if (!spare) return null;
  spares.delete(modulePath);
  clearTimeout(spare.timer);
  const { child } = spare;
  if (child.exitCode !== null || child.signalCode !== null || !child.connected) return null;
  child.removeAllListeners("exit");
  setRef(child, true);
  return child;
}

function startSpare(modulePath: string): void {
  if (!sparesEnabled || spares.has(modulePath)) return;
  if (spares.size >= MAX_SPARES) {
    const [oldest] = spares.keys();
    const old = spares.get(oldest as string) as Spare;
    spares.delete(oldest as string);
    clearTimeout(old.timer);
    old.child.kill("SIGKILL");
  }
  let child: ChildProcess;
  try {
    child = forkChild();
  } catch {
    return; // no spare: the next job forks its own
  }
  child.on("error", () => undefined);
  child.on("exit", () => {
    if (spares.get(modulePath)?.child === child) {
      clearTimeout(spares.get(modulePath)!.timer);
      spares.delete(modulePath);
    }
  });
  const timer = setTimeout(() => {
    if (spares.get(modulePath)?.child !== child) return;
    spares.delete(modulePath);
    child.kill("SIGKILL");
  }, SPARE_IDLE_MS);
  timer.unref();
  spares.set(modulePath, { child, timer });
  setRef(child, false);
  child.send({ type: "preload", modulePath }, () => undefined);
}

/**
 * Runs `exportName` of `modulePath` on `input` in a child Node process. CPU-bound work
 * (training, profiling large data) goes here: the worker's event loop stays free for
 * heartbeats, cancellation and progress; a crash or a leak in the work cannot take the worker
 * down; and cancelling is a plain SIGKILL. Input and result travel as JSON over IPC; the
 * function is called as fn(input, report(fraction, message), emit(data)), and `emit`
 * delivers any data (e.g. per-epoch metrics) to `onEvent` while it runs.
 */
export function runInSubprocess<I, O>(
  modulePath: string,
  exportName: string,
  input: I,
  opts: { signal?: AbortSignal; onProgress?: SubprocessProgress; onEvent?: (data: unknown) => void; onSpawn?: (pid: number) => void } = {},
): Promise<O> {
  const resolved = path.resolve(modulePath);
  return new Promise<O>((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new JobCancelledError());
    const child = takeSpare(resolved) ?? forkChild();
    if (child.pid) opts.onSpawn?.(child.pid);
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener("abort", onAbort);
      // The next job of this module should not pay the start-up again; warm one while idle.
      setImmediate(() => startSpare(resolved));
      fn();
    };
    const onAbort = () => {
      child.kill("SIGKILL");
      finish(() => reject(new JobCancelledError()));
    };
    opts.signal?.addEventListener("abort", onAbort);
    child.on("message", (msg: { type: string; result?: O; message?: string; code?: ErrorCode; fraction?: number; data?: unknown }) => {
      if (msg.type === "progress") opts.onProgress?.(msg.fraction ?? 0, msg.message);
      else if (msg.type === "event") opts.onEvent?.(msg.data);
      else if (msg.type === "result") finish(() => resolve(msg.result as O));
      else if (msg.type === "error") finish(() => reject(msg.code ? new OuroError(msg.code, msg.message ?? "") : new Error(msg.message)));
    });
    child.on("error", (err) => finish(() => reject(err)));
    child.on("exit", (code, signal) => finish(() => reject(new Error(`task process ended (${signal ?? `code ${code}`}) without a result`))));
    child.send({ modulePath: resolved, exportName, input });
  });
}
