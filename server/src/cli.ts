import "reflect-metadata";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { parseArgs } from "node:util";
import { startOuro } from "./app/ouro";
import { printOuroSchema } from "./app/schema";
import { resolveDatabase, startServices } from "./app/services";
import { startReplica } from "./app/serve";
import { simulateCommand } from "./app/simulate-command";
import { startWorker } from "./app/worker";
import { createToken, createUser, findUserByEmail } from "./domains/users/token.service";
import { readConfig } from "./platform/config";
import { createLogger } from "./platform/logger";
import { migrate } from "./platform/migrate";
import { createMetrics } from "./platform/observability";

const USAGE = `ouro — the ML lifecycle in one typed graph

Usage:
  ouro start [--no-worker]     GraphQL server (+ an in-process worker unless --no-worker)
  ouro worker                  a job worker only
  ouro serve                   a prediction replica: /v1/endpoints/* only, stateless
  ouro simulate --deployment ID --dataset-version ID --rows N --rate R [drift options]
                               replay a dataset against an endpoint (run with no options for help)
  ouro migrate                 apply database migrations and exit
  ouro token create --email E [--name N] [--admin] [--expires-days D]
                               create (or reuse) a user and print a new API token
  ouro schema [--out FILE]     print the GraphQL schema (SDL)

Configuration comes from environment variables; see README.md.`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  const config = readConfig();
  const log = createLogger(config.logLevel);
  switch (command) {
    case "start":
      return start(rest, config, log);
    case "worker":
      return worker(config, log);
    case "serve":
      return serve(config, log);
    case "simulate":
      return simulateCommand(rest);
    case "migrate": {
      const { url, embedded } = await resolveDatabase(config, log);
      const applied = await migrate(url, log);
      console.log(applied.length ? `applied ${applied.join(", ")}` : "database is up to date");
      await embedded?.stop();
      return;
    }
    case "token":
      return token(rest, config, log);
    case "schema": {
      const { values } = parseArgs({ args: rest, options: { out: { type: "string" } } });
      const sdl = await printOuroSchema();
      if (values.out) await writeFile(path.resolve(values.out), sdl);
      else process.stdout.write(sdl);
      return;
    }
    default:
      console.log(USAGE);
      if (command && command !== "help" && command !== "--help") process.exitCode = 2;
  }
}

async function start(args: string[], config: ReturnType<typeof readConfig>, log: ReturnType<typeof createLogger>) {
  const { values } = parseArgs({ args, options: { "no-worker": { type: "boolean", default: false } } });
  const t0 = Date.now();
  // Signals are handled from the first moment: a SIGTERM during start-up waits for it to finish,
  // then drains, so an embedded PostgreSQL is never left running behind us.
  const starting = startOuro(config, log, { worker: !values["no-worker"] });
  onShutdown(log, config.shutdownGraceSeconds, () => starting.then((ouro) => ouro.stop()));
  const ouro = await starting;
  log.info({ url: ouro.url, worker: !!ouro.worker, ms: Date.now() - t0 }, "Ouro ready");
  console.log(`\nOuro is ready at ${ouro.url} (GraphQL over HTTP and WebSocket)`);
  if (ouro.firstToken) console.log(`First admin API token (shown once, store it now):\n  ${ouro.firstToken}\n`);
}

async function worker(config: ReturnType<typeof readConfig>, log: ReturnType<typeof createLogger>) {
  const starting = (async () => {
    const app = await startServices(config, log, "worker", { migrate: false });
    try {
      return { app, worker: await startWorker(app, createMetrics()) };
    } catch (err) {
      await app.close();
      throw err;
    }
  })();
  onShutdown(log, config.shutdownGraceSeconds, async () => {
    const { app, worker: w } = await starting;
    await w.stop();
    await app.close();
  });
  await starting;
}

async function serve(config: ReturnType<typeof readConfig>, log: ReturnType<typeof createLogger>) {
  const starting = startReplica(config, log);
  onShutdown(log, config.shutdownGraceSeconds, () => starting.then((r) => r.stop()));
  const replica = await starting;
  console.log(`Ouro serving replica ready at ${replica.url}/v1/endpoints/{name}/predict`);
}

async function token(args: string[], config: ReturnType<typeof readConfig>, log: ReturnType<typeof createLogger>) {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      email: { type: "string" },
      name: { type: "string" },
      admin: { type: "boolean", default: false },
      "expires-days": { type: "string" },
    },
  });
  if (positionals[0] !== "create" || !values.email) {
    console.error("usage: ouro token create --email E [--name N] [--admin] [--expires-days D]");
    process.exitCode = 2;
    return;
  }
  const app = await startServices(config, log, "cli", { migrate: true });
  try {
    const user = (await findUserByEmail(app.db, values.email)) ?? (await createUser(app.db, values.email, values.name ?? values.email, values.admin));
    const expires = values["expires-days"] ? Number(values["expires-days"]) : null;
    const created = await createToken(app.db, user.id, values.name ?? "cli", expires);
    console.log(created.token);
  } finally {
    await app.close();
  }
}

/** First SIGTERM/SIGINT drains within the grace period; a second one exits at once. */
function onShutdown(log: ReturnType<typeof createLogger>, graceSeconds: number, drain: () => Promise<void>) {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) {
      log.warn({ signal }, "second signal: exiting now");
      process.exit(1);
    }
    stopping = true;
    log.info({ signal }, "draining");
    const timer = setTimeout(() => {
      log.error("grace period over: exiting");
      process.exit(1);
    }, graceSeconds * 1000);
    timer.unref();
    drain().then(
      () => {
        log.info("stopped");
        process.exit(0);
      },
      (err) => {
        log.error({ err }, "error while stopping");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => handler("SIGTERM"));
  process.on("SIGINT", () => handler("SIGINT"));
}

main(process.argv.slice(2)).catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
