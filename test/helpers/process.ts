import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";

const BIN = path.resolve(__dirname, "../../server/bin/ouro.js");

export interface OuroProcess {
  child: ChildProcess;
  output: () => string;
  /** Resolves when the output matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

/** Runs `ouro <args>` as a real child process (its own Node, pool and bus connection). */
export function spawnOuro(args: string[], env: Record<string, string>): OuroProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, OURO_LOG_LEVEL: "info", OURO_PORT: "0", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const waiters: { pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];
  const onData = (d: Buffer) => {
    out += d.toString();
    for (const w of [...waiters]) {
      const m = out.match(w.pattern);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    waitFor(pattern, timeoutMs = 30_000) {
      const m = out.match(pattern);
      if (m) return Promise.resolve(m);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; output:\n${out.slice(-3000)}`)), timeoutMs);
        waiters.push({ pattern, resolve: (v) => (clearTimeout(timer), resolve(v)) });
      });
    },
  };
}
