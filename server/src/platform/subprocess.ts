import { fork } from "node:child_process";
import path from "node:path";
import { OuroError, type ErrorCode } from "./errors";
import { JobCancelledError } from "./tasks";

export type SubprocessProgress = (fraction: number, message?: string) => void;

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
  return new Promise<O>((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new JobCancelledError());
    const child = fork(path.join(__dirname, "subprocess-entry.js"), [], {
      execArgv: [],
      serialization: "advanced",
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    if (child.pid) opts.onSpawn?.(child.pid);
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener("abort", onAbort);
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
    child.send({ modulePath: path.resolve(modulePath), exportName, input });
  });
}
