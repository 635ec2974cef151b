import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import express, { type NextFunction, type Request, type Response } from "express";
import type { GraphQLSchema } from "graphql";
import { hashToken, tokenFromHeader, type Viewer } from "../platform/auth";
import { authLimiterOf } from "../platform/auth-limiter";
import { clientAddress } from "../platform/net/client-address";
import { HTTP_STATUS, isDatabaseUnavailable, OuroError, unauthenticated, type ErrorCode } from "../platform/errors";
import type { AppServices, Context } from "../platform/graphql/context";
import { limitRules } from "../platform/graphql/limits";
import type { Metrics } from "../platform/observability";
import { uploadHandler } from "../domains/datasets/upload.route";
import { WEBHOOK_MAX_BODY, webhookHandler } from "../domains/pipelines/pipeline.route";
import { eventsRoute } from "../domains/events/events.route";
import { onlineFeaturesRoutes } from "../domains/features/online.route";
import { labelsHandler, predictHandler, statusHandler } from "../domains/deployments/predict.route";
import { artifactDownloadHandler } from "../domains/runs/artifact.route";
import { authenticate } from "../domains/users/token.service";
import { databaseUnavailable, formatError, isInternal } from "./errors";
import { BodyError, graphqlRoute } from "./graphql-route";

declare module "express-serve-static-core" {
  interface Request {
    requestId: string;
    viewer: Viewer | null;
  }
}

const REQUEST_ID = /^[\w.-]{8,64}$/;

export interface HttpApp {
  server: Server;
  apollo: ApolloServer<Context>;
  isDraining(): boolean;
  startDraining(): void;
}

export function sendError(res: Response, code: ErrorCode, message: string, requestId: string, details?: Record<string, unknown>, retryAfterSeconds = 1): void {
  if (res.headersSent) return;
  if (code === "RATE_LIMITED" || code === "UNAVAILABLE") res.setHeader("retry-after", String(retryAfterSeconds));
  res.status(HTTP_STATUS[code]).json({ errors: [{ message, extensions: { code, requestId, ...(details ? { details } : {}) } }] });
}

/** Express app with GraphQL at /graphql and the operational routes. Every route but health checks needs a token. */
export async function createHttpApp(app: AppServices, schema: GraphQLSchema, metrics: Metrics): Promise<HttpApp> {
  const { config, log } = app;
  const web = express();
  const server = createServer(web);
  let draining = false;
  web.disable("x-powered-by");
  // API answers are not cached by clients; hashing every response for an ETag is wasted work.
  web.set("etag", false);
  web.set("trust proxy", false);

  web.use(requestContext(metrics));

  web.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  web.get("/readyz", async (req, res) => {
    if (draining) return sendError(res, "UNAVAILABLE", "shutting down", req.requestId);
    try {
      await app.db.query("SELECT 1");
      res.json({ status: "ready" });
    } catch {
      sendError(res, "UNAVAILABLE", "database unreachable", req.requestId);
    }
  });

  const requireToken = tokenGuard(app);

  const requestIdPlugin: ApolloServerPlugin<Context> = {
    async requestDidStart({ contextValue }) {
      return {
        async didEncounterErrors({ errors, operation }) {
          for (const err of errors) {
            if (isInternal(err)) log.error({ err: err.originalError ?? err, requestId: contextValue.requestId, operation: operation?.name?.value }, "internal error");
          }
        },
        async willSendResponse({ response, errors, operation }) {
          metrics.graphqlOperations.inc({ type: operation?.operation ?? "unknown", outcome: errors?.length ? "error" : "ok" });
          if (response.body.kind === "single" && response.body.singleResult.errors) {
            response.body.singleResult.errors = response.body.singleResult.errors.map((e) => ({
              ...e,
              extensions: { ...e.extensions, requestId: contextValue.requestId },
            }));
          }
        },
      };
    },
  };

  const apollo = new ApolloServer<Context>({
    schema,
    introspection: config.introspection,
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    // Ouro drains on SIGTERM itself (cli.ts), in order: sockets, HTTP, worker, database.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    hideSchemaDetailsFromClientErrors: !config.introspection,
    validationRules: limitRules(config.limits),
    parseOptions: { maxTokens: config.limits.maxTokens },
    formatError,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      requestIdPlugin,
      // Ouro sets no cache hints; Apollo's cache-control plugin would still wrap every field's resolver.
      ApolloServerPluginCacheControlDisabled(),
      ...(config.introspection ? [] : [ApolloServerPluginLandingPageDisabled()]),
    ],
  });
  await apollo.start();

  // First among the routes: the busiest, and the router need not try the others.
  web.use("/graphql", requireToken, graphqlRoute(apollo, app));

  web.get("/metrics", ...(config.metricsPublic ? [] : [requireToken]), async (_req, res) => {
    res.setHeader("content-type", metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });

  servingRoutes(web, app, requireToken);

  web.post("/v1/events/:featureSet", requireToken, ...eventsRoute(app));
  web.use(onlineFeaturesRoutes(app, requireToken));

  const download = artifactDownloadHandler(app);
  web.get("/v1/artifacts/:id", requireToken, (req, res, next) => {
    download(req, res).catch(next);
  });

  web.post("/v1/uploads", requireToken, (req, res, next) => {
    uploadHandler(app)(req, res).catch(next);
  });

  // Signed by the pipeline's webhook secret instead of an API token (see pipeline.route.ts).
  web.post("/v1/pipelines/:id/webhook", express.raw({ type: () => true, limit: WEBHOOK_MAX_BODY }), (req, res, next) => {
    webhookHandler(app)(req, res).catch(next);
  });

  web.use((req, res) => sendError(res, "NOT_FOUND", `no route ${req.method} ${req.path}`, req.requestId));

  web.use(errorHandler(app));

  return { server, apollo, isDraining: () => draining, startDraining: () => void (draining = true) };
}

/** Request id (given or new) and request metrics, for every route. */
export function requestContext(metrics: Metrics) {
  return (req: Request, res: Response, next: NextFunction) => {
    const given = req.header("x-request-id");
    req.requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    req.viewer = null;
    res.setHeader("x-request-id", req.requestId);
    const end = metrics.httpDuration.startTimer();
    res.on("finish", () => {
      // originalUrl: a router mount (web.use("/graphql", …)) leaves req.path relative to it.
      const route = routeLabel(req.originalUrl.split("?")[0]!);
      end({ route });
      metrics.httpRequests.inc({ route, status: String(res.statusCode) });
    });
    next();
  };
}

/** Resolves the bearer token into req.viewer, or answers 401 (429 after too many wrong tokens: platform/auth-limiter.ts). */
export function tokenGuard(app: AppServices) {
  const limiter = authLimiterOf(app);
  return async (req: Request, res: Response, next: NextFunction) => {
    try {
      const token = tokenFromHeader(req.header("authorization"));
      const address = clientAddress(req, app.config.auth.trustedProxies);
      const wait = token ? limiter.retryAfterSeconds(address) : 0;
      if (wait && !app.tokens.get(hashToken(token!))) {
        return sendError(res, "RATE_LIMITED", `too many wrong API tokens from this address; try again in ${wait} s`, req.requestId, undefined, wait);
      }
      req.viewer = token ? await authenticate(app.db, token, app.tokens) : null;
      if (!req.viewer && token) await limiter.fail(address);
      if (!req.viewer) return sendError(res, "UNAUTHENTICATED", unauthenticated().message, req.requestId);
      next();
    } catch (err) {
      next(err);
    }
  };
}

/** The prediction endpoints: served by `ouro start` and by `ouro serve` replicas alike. */
export function servingRoutes(web: express.Express, app: AppServices, requireToken: ReturnType<typeof tokenGuard>): void {
  const json = express.json({ limit: app.config.limits.maxBodyBytes });
  const predict = predictHandler(app);
  const labels = labelsHandler(app);
  web.post("/v1/endpoints/:name/predict", requireToken, json, (req, res, next) => {
    predict(req, res).catch(next);
  });
  web.post("/v1/endpoints/:name/labels", requireToken, json, (req, res, next) => {
    labels(req, res).catch(next);
  });
  const status = statusHandler(app);
  web.get("/v1/endpoints/:name/status", requireToken, (req, res, next) => {
    status(req, res).catch(next);
  });
}

/** Body parser and other middleware errors: a clear client error, never a stack trace. */
export function errorHandler(app: AppServices) {
  return (err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = (err as { status?: number; type?: string }).status;
    // An error that knows how long to wait (details.retryAfterSeconds) says so in Retry-After.
    if (err instanceof OuroError) return sendError(res, err.code, err.message, req.requestId, err.details, Number(err.details?.retryAfterSeconds) || undefined);
    if (err instanceof BodyError) return sendError(res, err.status === 413 ? "PAYLOAD_TOO_LARGE" : "BAD_USER_INPUT", err.message, req.requestId);
    if (isDatabaseUnavailable(err)) {
      app.log.warn({ err: (err as Error).message, requestId: req.requestId }, "database unavailable");
      return sendError(res, "UNAVAILABLE", databaseUnavailable().message, req.requestId);
    }
    if (status === 413) return sendError(res, "PAYLOAD_TOO_LARGE", `request body larger than ${app.config.limits.maxBodyBytes} bytes`, req.requestId);
    if (status && status >= 400 && status < 500) return sendError(res, "BAD_USER_INPUT", "malformed request body", req.requestId);
    app.log.error({ err, requestId: req.requestId }, "unhandled HTTP error");
    sendError(res, "INTERNAL", "Internal server error", req.requestId);
  };
}

function routeLabel(path: string): string {
  if (path.startsWith("/graphql")) return "/graphql";
  if (path === "/v1/uploads") return path;
  if (path.startsWith("/v1/artifacts/")) return "/v1/artifacts/:id";
  if (path.startsWith("/v1/events/")) return "/v1/events";
  if (path.startsWith("/v1/feature-sets/")) return "/v1/feature-sets/:id/online";
  if (path.startsWith("/v1/endpoints/")) return path.endsWith("/labels") ? "/v1/endpoints/:name/labels" : path.endsWith("/status") ? "/v1/endpoints/:name/status" : "/v1/endpoints/:name/predict";
  if (["/healthz", "/readyz", "/metrics"].includes(path)) return path;
  return "other";
}
