import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import { GraphQLError, type GraphQLSchema } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer, type WebSocket } from "ws";
import { hashToken, tokenFromHeader, type Viewer } from "../platform/auth";
import { authLimiterOf } from "../platform/auth-limiter";
import { clientAddress } from "../platform/net/client-address";
import type { AppServices, Context } from "../platform/graphql/context";
import { parseWithLimits, validateWithLimits } from "../platform/graphql/limits";
import { sharedSubscribe } from "../platform/graphql/shared-subscribe";
import type { Metrics } from "../platform/observability";
import { authenticate, TOKEN_REVOKED_TOPIC } from "../domains/users/token.service";
import { formatError, isInternal } from "./errors";

type Extra = {
  socket: WebSocket;
  viewer?: Viewer;
  /** Open operations by id, with the request id their errors carry. */
  operations?: Map<string, string>;
};

export const CLOSE_FORBIDDEN = 4403;
/** Too many wrong tokens from this address (platform/auth-limiter.ts); the reason says when to retry. */
export const CLOSE_TOO_MANY_FAILURES = 4429;

/**
 * graphql-ws on the HTTP server's /graphql path. The token comes in connection_init (a
 * browser cannot set headers on a WebSocket): `{ "authorization": "Bearer ..." }`. The same
 * parse and validation limits as HTTP apply to every operation; a revoked token's sockets
 * are closed at once.
 */
export function attachWebSocket(server: Server, app: AppServices, schema: GraphQLSchema, metrics: Metrics) {
  const { config } = app;
  const wss = new WebSocketServer({ server, path: "/graphql", maxPayload: config.limits.wsMaxPayloadBytes });
  const socketsByToken = new Map<string, Set<WebSocket>>();
  const limiter = authLimiterOf(app);

  const unsubscribeRevoked = app.bus.subscribe(TOKEN_REVOKED_TOPIC, (msg) => {
    const tokenId = (msg.data as { tokenId?: string } | undefined)?.tokenId;
    for (const socket of (tokenId && socketsByToken.get(tokenId)) || []) socket.close(CLOSE_FORBIDDEN, "Forbidden: token revoked");
  });

  wss.on("connection", (socket) => {
    metrics.wsConnections.inc();
    socket.on("close", () => metrics.wsConnections.dec());
  });

  const disposable = useServer<Record<string, unknown> | undefined, Extra>(
    {
      schema,
      connectionInitWaitTimeout: 3000,
      subscribe: sharedSubscribe((args) => (args.contextValue as Context & { operationKey: string }).operationKey),
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const header = typeof params.authorization === "string" ? params.authorization : typeof params.Authorization === "string" ? params.Authorization : undefined;
        const token = tokenFromHeader(header) ?? (typeof params.token === "string" ? params.token : null);
        const address = clientAddress(ctx.extra.request, config.auth.trustedProxies);
        const wait = token ? limiter.retryAfterSeconds(address) : 0;
        if (wait && !app.tokens.get(hashToken(token!))) {
          ctx.extra.socket.close(CLOSE_TOO_MANY_FAILURES, `Too many wrong tokens; retry in ${wait} s`);
          return false;
        }
        const viewer = token ? await authenticate(app.db, token, app.tokens) : null;
        if (!viewer && token) await limiter.fail(address);
        if (!viewer) return false; // graphql-ws closes with 4403 Forbidden
        ctx.extra.viewer = viewer;
        ctx.extra.operations = new Map();
        const set = socketsByToken.get(viewer.tokenId) ?? new Set();
        set.add(ctx.extra.socket);
        socketsByToken.set(viewer.tokenId, set);
        return true;
      },
      onSubscribe: (ctx, id, payload) => {
        const ops = ctx.extra.operations!;
        if (ops.size >= config.limits.wsMaxSubscriptions) {
          return [new GraphQLError(`at most ${config.limits.wsMaxSubscriptions} operations per connection`, { extensions: { code: "RATE_LIMITED" } })];
        }
        let document;
        try {
          document = parseWithLimits(payload.query, config.limits);
        } catch (err) {
          return [err instanceof GraphQLError ? err : new GraphQLError("could not parse the operation")];
        }
        const errors = validateWithLimits(schema, document, config.limits);
        if (errors.length) return errors;
        const requestId = randomUUID();
        ops.set(id, requestId);
        metrics.subscriptions.inc();
        // Subscriptions running the same operation may share each event's result (shared-subscribe.ts).
        const operationKey = JSON.stringify([payload.query, payload.variables ?? null, payload.operationName ?? null]);
        const contextValue: Context & { operationKey: string } = { requestId, viewer: ctx.extra.viewer ?? null, app, operationKey };
        return { schema, document, variableValues: payload.variables, operationName: payload.operationName, contextValue };
      },
      onComplete: (ctx, id) => {
        if (ctx.extra.operations?.delete(id)) metrics.subscriptions.dec();
      },
      onNext: (ctx, id, _payload, _args, result) => {
        if (!("errors" in result) || !result.errors) return undefined;
        return { ...result, errors: result.errors.map((e) => present(e, ctx.extra.operations?.get(id))) };
      },
      onError: (ctx, id, _payload, errors) => errors.map((e) => present(e, ctx.extra.operations?.get(id))),
      onClose: (ctx) => {
        const ops = ctx.extra.operations;
        if (ops?.size) metrics.subscriptions.dec(ops.size);
        ops?.clear();
        const tokenId = ctx.extra.viewer?.tokenId;
        const sockets = tokenId ? socketsByToken.get(tokenId) : undefined;
        sockets?.delete(ctx.extra.socket);
        if (tokenId && sockets?.size === 0) socketsByToken.delete(tokenId);
      },
    },
    wss,
  );

  /** As over HTTP: a code and a request id for the client; internal errors logged in full. */
  function present(e: GraphQLError, requestId = "unknown"): GraphQLError {
    if (isInternal(e)) app.log.error({ err: e.originalError ?? e, requestId }, "internal error (websocket)");
    const shown = formatError(e.toJSON(), e);
    return new GraphQLError(shown.message, { path: shown.path, extensions: { ...shown.extensions, requestId } });
  }

  return {
    async close() {
      unsubscribeRevoked();
      for (const client of wss.clients) client.close(1001, "server shutting down");
      await disposable.dispose();
    },
  };
}
