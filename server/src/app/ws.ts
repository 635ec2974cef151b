import { randomUUID } from "node:crypto";
import type { Server } from "node:http";
import { GraphQLError, type GraphQLSchema } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer, type WebSocket } from "ws";
import { tokenFromHeader, type Viewer } from "../platform/auth";
import type { AppServices, Context } from "../platform/graphql/context";
import { parseWithLimits, validateWithLimits } from "../platform/graphql/limits";
import type { Metrics } from "../platform/observability";
import { authenticate, TOKEN_REVOKED_TOPIC } from "../domains/users/token.service";
import { formatError } from "./errors";

type Extra = {
  socket: WebSocket;
  viewer?: Viewer;
  subscriptions?: Set<string>;
};

export const CLOSE_FORBIDDEN = 4403;

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
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const header = typeof params.authorization === "string" ? params.authorization : typeof params.Authorization === "string" ? params.Authorization : undefined;
        const token = tokenFromHeader(header) ?? (typeof params.token === "string" ? params.token : null);
        const viewer = token ? await authenticate(app.db, token) : null;
        if (!viewer) return false; // graphql-ws closes with 4403 Forbidden
        ctx.extra.viewer = viewer;
        ctx.extra.subscriptions = new Set();
        const set = socketsByToken.get(viewer.tokenId) ?? new Set();
        set.add(ctx.extra.socket);
        socketsByToken.set(viewer.tokenId, set);
        return true;
      },
      onSubscribe: (ctx, id, payload) => {
        const subs = ctx.extra.subscriptions!;
        if (subs.size >= config.limits.wsMaxSubscriptions) {
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
        subs.add(id);
        metrics.subscriptions.inc();
        const contextValue: Context = { requestId: randomUUID(), viewer: ctx.extra.viewer ?? null, app };
        return { schema, document, variableValues: payload.variables, operationName: payload.operationName, contextValue };
      },
      onComplete: (ctx, id) => {
        if (ctx.extra.subscriptions?.delete(id)) metrics.subscriptions.dec();
      },
      onNext: (_ctx, _id, _payload, _args, result) => {
        if ("errors" in result && result.errors) {
          return { ...result, errors: result.errors.map((e) => formatError(e.toJSON(), e) as GraphQLError) };
        }
        return undefined;
      },
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => new GraphQLError(formatError(e.toJSON(), e).message, { extensions: formatError(e.toJSON(), e).extensions })),
      onClose: (ctx) => {
        const n = ctx.extra.subscriptions?.size ?? 0;
        if (n) metrics.subscriptions.dec(n);
        const tokenId = ctx.extra.viewer?.tokenId;
        if (tokenId) socketsByToken.get(tokenId)?.delete(ctx.extra.socket);
      },
    },
    wss,
  );

  return {
    async close() {
      unsubscribeRevoked();
      for (const client of wss.clients) client.close(1001, "server shutting down");
      await disposable.dispose();
    },
  };
}
