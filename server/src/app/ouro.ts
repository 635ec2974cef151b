import type { Config } from "../platform/config";
import type { Logger } from "../platform/logger";
import { addQueueGauges, createMetrics } from "../platform/observability";
import { stopServing } from "../domains/deployments/serving/registry";
import { addServingGauges } from "../domains/deployments/serving/metrics";
import { bootstrapAdmin } from "../domains/users/token.service";
import { createHttpApp, type HttpApp } from "./http";
import { ouroSchema } from "./schema";
import { startServices, type Started } from "./services";
import { startWorker } from "./worker";
import { attachWebSocket } from "./ws";

export interface RunningOuro {
  url: string;
  app: Started;
  http: HttpApp;
  worker: Awaited<ReturnType<typeof startWorker>> | null;
  /** The first admin token, when this start created the first admin. */
  firstToken: string | null;
  /** Drains: no new requests, open sockets closed, in-flight work finished. */
  stop(): Promise<void>;
}

/** A whole Ouro server process: database, GraphQL over HTTP and WebSocket, optionally a worker. */
export async function startOuro(config: Config, log: Logger, opts: { worker: boolean }): Promise<RunningOuro> {
  const app = await startServices(config, log, "server", { migrate: true });
  try {
    return await serve(app, config, opts);
  } catch (err) {
    await app.close();
    throw err;
  }
}

async function serve(app: Started, config: Config, opts: { worker: boolean }): Promise<RunningOuro> {
  const metrics = createMetrics();
  addQueueGauges(metrics, async () => {
    const [row] = await app.db.query(
      `SELECT (SELECT count(*)::int FROM jobs WHERE status = 'queued') AS queued,
              (SELECT count(*)::int FROM jobs WHERE status = 'running') AS running,
              (SELECT count(*)::int FROM worker_processes WHERE heartbeat_at > now() - interval '1 minute') AS workers`,
    );
    return row as { queued: number; running: number; workers: number };
  });
  addServingGauges(metrics.registry, app);
  const schema = await ouroSchema();
  const http = await createHttpApp(app, schema, metrics);
  const ws = attachWebSocket(http.server, app, schema, metrics);
  const worker = opts.worker ? await startWorker(app, metrics) : null;
  await new Promise<void>((resolve, reject) => {
    http.server.once("error", reject);
    http.server.listen(config.port, config.host, resolve);
  });
  const address = http.server.address();
  const port = typeof address === "object" && address ? address.port : config.port;
  const host = config.host === "0.0.0.0" ? "localhost" : config.host;
  const first = await bootstrapAdmin(app.db);
  return {
    url: `http://${host}:${port}/graphql`,
    app,
    http,
    worker,
    firstToken: first?.token ?? null,
    async stop() {
      http.startDraining();
      await ws.close();
      await http.apollo.stop();
      await worker?.stop();
      await stopServing(app);
      await app.close();
    },
  };
}
