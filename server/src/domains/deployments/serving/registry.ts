import type { AppServices } from "../../../platform/graphql/context";
import { Serving } from "./serving";

// One serving engine per process (per AppServices), created on first use: a server that
// never serves a prediction never loads TensorFlow.js nor opens the log's connections.
const engines = new WeakMap<AppServices, Serving>();

export function servingFor(app: AppServices): Serving {
  let engine = engines.get(app);
  if (!engine) {
    engine = new Serving({ db: app.db, bus: app.bus, artifacts: app.artifacts, logger: app.log, databaseUrl: app.databaseUrl, config: app.config });
    engine.start();
    engines.set(app, engine);
  }
  return engine;
}

/** The engine if this process has started one, without starting it (for /metrics). */
export function runningServing(app: AppServices): Serving | undefined {
  return engines.get(app);
}

/** Flushes the prediction log; call before the database closes. */
export async function stopServing(app: AppServices): Promise<void> {
  const engine = engines.get(app);
  engines.delete(app);
  await engine?.stop();
}
