import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import { expressMiddleware } from "@as-integrations/express5";
import express, { type NextFunction, type Request, type Response } from "express";
import type { GraphQLSchema } from "graphql";
import { tokenFromHeader, type Viewer } from "../platform/auth";
import { HTTP_STATUS, OuroError, unauthenticated, type ErrorCode } from "../platform/errors";
import type { AppServices, Context } from "../platform/graphql/context";
import { limitRules } from "../platform/graphql/limits";
import type { Metrics } from "../platform/observability";
import { uploadHandler } from "../domains/datasets/upload.route";
import { authenticate } from "../domains/users/token.service";
import { formatError, isInternal } from "./errors";

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

export function sendError(res: Response, code: ErrorCode, message: string, requestId: string): void {
  if (res.headersSent) return;
  res.status(HTTP_STATUS[code]).json({ errors: [{ message, extensions: { code, requestId } }] });
}

/** Express app with GraphQL at /graphql and the operational routes. Every route but health checks needs a token. */
export async function createHttpApp(app: AppServices, schema: GraphQLSchema, metrics: Metrics): Promise<HttpApp> {
  const { config, log } = app;
  const web = express();
  const server = createServer(web);
  let draining = false;
  web.disable("x-powered-by");
  web.set("trust proxy", false);

  web.use((req, res, next) => {
    const given = req.header("x-request-id");
    req.requestId = given && REQUEST_ID.test(given) ? given : randomUUID();
    req.viewer = null;
    res.setHeader("x-request-id", req.requestId);
    const end = metrics.httpDuration.startTimer();
    res.on("finish", () => {
      const route = routeLabel(req.path);
      end({ route });
      metrics.httpRequests.inc({ route, status: String(res.statusCode) });
    });
    next();
  });

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

  const requireToken = async (req: Request, res: Response, next: NextFunction) => {
    try {
      const token = tokenFromHeader(req.header("authorization"));
      req.viewer = token ? await authenticate(app.db, token, app.tokens) : null;
      if (!req.viewer) return sendError(res, "UNAUTHENTICATED", unauthenticated().message, req.requestId);
      next();
    } catch (err) {
      next(err);
    }
  };

  web.get("/metrics", ...(config.metricsPublic ? [] : [requireToken]), async (_req, res) => {
    res.setHeader("content-type", metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });

  web.post("/v1/uploads", requireToken, (req, res, next) => {
    uploadHandler(app)(req, res).catch(next);
  });

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
      ...(config.introspection ? [] : [ApolloServerPluginLandingPageDisabled()]),
    ],
  });
  await apollo.start();

  web.use(
    "/graphql",
    express.json({ limit: config.limits.maxBodyBytes }),
    requireToken,
    expressMiddleware(apollo, {
      context: async ({ req }) => ({ requestId: req.requestId, viewer: req.viewer, app }),
    }),
  );

  web.use((req, res) => sendError(res, "NOT_FOUND", `no route ${req.method} ${req.path}`, req.requestId));

  // Body parser and other middleware errors: a clear client error, never a stack trace.
  web.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = (err as { status?: number; type?: string }).status;
    if (err instanceof OuroError) return sendError(res, err.code, err.message, req.requestId);
    if (status === 413) return sendError(res, "PAYLOAD_TOO_LARGE", `request body larger than ${config.limits.maxBodyBytes} bytes`, req.requestId);
    if (status && status >= 400 && status < 500) return sendError(res, "BAD_USER_INPUT", "malformed request body", req.requestId);
    log.error({ err, requestId: req.requestId }, "unhandled HTTP error");
    sendError(res, "INTERNAL", "Internal server error", req.requestId);
  });

  return { server, apollo, isDraining: () => draining, startDraining: () => void (draining = true) };
}

function routeLabel(path: string): string {
  if (path.startsWith("/graphql")) return "/graphql";
  if (path === "/v1/uploads") return path;
  if (["/healthz", "/readyz", "/metrics"].includes(path)) return path;
  return "other";
}
