import express, { type Request, type Response } from "express";
import { badInput, unauthenticated } from "../../platform/errors";
import type { AppServices } from "../../platform/graphql/context";
import { MAX_ONLINE_KEYS, onlineFeatures } from "./feature-set.service";
import { requireOnlineAccess } from "./online-access";

/** Keys are short strings. */
const MAX_KEY_LENGTH = 1000;

/**
 * The online store over plain HTTP, for serving clients that need the latency floor:
 *   GET  /v1/feature-sets/{id}/online?key=u1&key=u2
 *   POST /v1/feature-sets/{id}/online   {"keys": ["u1", "u2"]}
 * with the same token and the same access rule as the `onlineFeatures` GraphQL field (which
 * stays), and the same answer: one entry per key asked, in order (a feature set with several
 * entity keys takes the JSON array of their values, e.g. key=["s1","p1"] URL-encoded),
 *   {"featureSetId": "…", "rows": [{"key": "u1", "values": {…} | null, "eventTime": "…" | null}]}.
 * Why a second door: a GraphQL request spends a few tenths of a millisecond more of server CPU
 * in Apollo's pipeline, and its p99 stays around 5–6 ms on the benchmark machine against a
 * 5 ms floor (docs/benchmarks-data.md); this path is one cached access check and one query.
 */
export function onlineFeaturesRoutes(app: AppServices, requireToken: express.RequestHandler): express.Router {
  const router = express.Router();
  const handle = (keysOf: (req: Request) => unknown) => async (req: Request, res: Response) => {
    const viewer = req.viewer;
    if (!viewer) throw unauthenticated();
    const featureSetId = String(req.params.id);
    await requireOnlineAccess(app, viewer, featureSetId);
    const keys = checkKeys(keysOf(req));
    const rows = await onlineFeatures(app.db, featureSetId, keys);
    res.json({ featureSetId, rows });
  };
  const route = (fn: (req: Request, res: Response) => Promise<void>) => (req: Request, res: Response, next: express.NextFunction) => {
    fn(req, res).catch(next);
  };
  // The query string is read here rather than by Express's parser, which stops at 1000 pairs
  // and would silently drop the keys after that instead of refusing the request.
  const queryKeys = (req: Request) => new URLSearchParams(req.originalUrl.split("?")[1] ?? "").getAll("key");
  router.get("/v1/feature-sets/:id/online", requireToken, route(handle(queryKeys)));
  router.post(
    "/v1/feature-sets/:id/online",
    requireToken,
    express.json({ limit: app.config.limits.maxBodyBytes }),
    route(handle((req) => (req.body && typeof req.body === "object" ? (req.body as { keys?: unknown }).keys : undefined))),
  );
  return router;
}

function checkKeys(raw: unknown): string[] {
  const keys = typeof raw === "string" ? [raw] : raw;
  if (!Array.isArray(keys) || keys.length === 0) throw badInput("give the entity keys: ?key=…&key=… (GET) or {\"keys\": [\"…\"]} (POST)");
  if (keys.length > MAX_ONLINE_KEYS) throw badInput(`at most ${MAX_ONLINE_KEYS} keys per request`);
  for (const key of keys) {
    if (typeof key !== "string") throw badInput("every key must be a string");
    if (key.length > MAX_KEY_LENGTH) throw badInput(`a key is longer than ${MAX_KEY_LENGTH} characters`);
  }
  return keys as string[];
}
