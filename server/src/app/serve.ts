// `ouro serve`: a stateless prediction replica. It answers only the prediction endpoints
// (plus health and metrics), loads every active deployment's models before it reports
// ready, and follows traffic changes through the bus like the server does. Run as many as
// the load needs behind any HTTP load balancer.
import { createServer, type Server } from "node:http";
import express from "express";
import type { Config } from "../platform/config";
import type { Logger } from "../platform/logger";
import { createMetrics } from "../platform/observability";
import { servingFor, stopServing } from "../domains/deployments/serving/registry";
import { addServingGauges } from "../domains/deployments/serving/metrics";
import { errorHandler, requestContext, sendError, servingRoutes, tokenGuard } from "./http";
import { startServices } from "./services";

export interface RunningReplica {
  url: string;
  server: Server;
  stop(): Promise<void>;
}

export async function startReplica(config: Config, log: Logger): Promise<RunningReplica> {
  const app = await startServices(config, log, "serve", { migrate: false });
  try {
    const metrics = createMetrics();
    addServingGauges(metrics.registry, app);
    const web = express();
    web.disable("x-powered-by");
    web.use(requestContext(metrics));
    let ready = false;
    let draining = false;
    web.get("/healthz", (_req, res) => void res.json({ status: "ok" }));
    web.get("/readyz", (req, res) => (ready && !draining ? void res.json({ status: "ready" }) : sendError(res, "UNAVAILABLE", draining ? "shutting down" : "loading models", req.requestId)));
    const requireToken = tokenGuard(app);
    web.get("/metrics", ...(config.metricsPublic ? [] : [requireToken]), async (_req, res) => {
      res.setHeader("content-type", metrics.registry.contentType);
      res.send(await metrics.registry.metrics());
    });
    servingRoutes(web, app, requireToken);
    web.use((req, res) => sendError(res, "NOT_FOUND", `no route ${req.method} ${req.path} (an ouro serve replica answers /v1/endpoints/* only)`, req.requestId));
    web.use(errorHandler(app));
    const server = createServer(web);
    const warmed = await servingFor(app).warm();
    ready = true;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(config.port, config.host, resolve);
    });
    const address = server.address();
    const port = typeof address === "object" && address ? address.port : config.port;
    log.info({ port, deployments: warmed }, "serving replica ready");
    return {
      url: `http://${config.host === "0.0.0.0" ? "localhost" : config.host}:${port}`,
      server,
      async stop() {
        draining = true;
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await stopServing(app);
        await app.close();
      },
    };
  } catch (err) {
    await app.close();
    throw err;
  }
}
