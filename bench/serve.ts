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
import { startOuro } from "../server/src/app/ouro";
import { readConfig } from "../server/src/platform/config";
import { createLogger } from "../server/src/platform/logger";

async function main(): Promise<void> {
  const config = readConfig(process.env);
  const log = createLogger(config.logLevel, "ouro-bench");
  const ouro = await startOuro(config, log, { worker: process.env.BENCH_WORKER === "1" });
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

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
