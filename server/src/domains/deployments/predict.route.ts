// The REST hot path: POST /v1/endpoints/{name}/predict and /labels. GraphQL has the same
// operations (predict, logLabels); this route skips the GraphQL machinery for latency, and
// reads its JSON body itself (predictBody). GET /v1/endpoints/{name}/status shows what this
// process serves for an endpoint, with the kernel scoring each model version.
import type { NextFunction, Request, RequestHandler, Response } from "express";
import type { AppServices } from "../../platform/graphql/context";
import { unauthenticated } from "../../platform/errors";
import { logLabels, accessDeployment } from "./deployment.service";
import { servingFor } from "./serving/registry";

const projectParam = (req: Request) => (typeof req.query.projectId === "string" ? req.query.projectId : null);

export function predictHandler(app: AppServices) {
  const serving = servingFor(app);
  return async (req: Request, res: Response): Promise<void> => {
    if (!req.viewer) throw unauthenticated();
    const name = String(req.params.name);
    const id = serving.resolveCached(req.viewer, name, projectParam(req)) ?? (await serving.resolve(req.viewer, name, projectParam(req)));
    res.json(await serving.predict(id, req.body, req.requestId));
  };
}

export function labelsHandler(app: AppServices) {
  const serving = servingFor(app);
  return async (req: Request, res: Response): Promise<void> => {
    if (!req.viewer) throw unauthenticated();
    const id = await serving.resolve(req.viewer, String(req.params.name), projectParam(req));
    const deployment = await accessDeployment(app.db, req.viewer, id, "editor");
    const body = req.body as { labels?: unknown } | unknown[];
    const labels = Array.isArray(body) ? body : (body as { labels?: unknown })?.labels;
    res.json({ labelled: await logLabels(app.db, deployment, labels as never) });
  };
}

/** GET /v1/endpoints/{name}/status: what this process serves for the endpoint, with each version's scoring kernel. */
export function statusHandler(app: AppServices) {
  const serving = servingFor(app);
  return async (req: Request, res: Response): Promise<void> => {
    if (!req.viewer) throw unauthenticated();
    const id = await serving.resolve(req.viewer, String(req.params.name), projectParam(req));
    res.json(await serving.status(id));
  };
}

/** A body error as body-parser reports one (errorHandler maps 413 and other 4xx statuses). */
const bodyError = (status: number, message: string) => Object.assign(new Error(message), { status, expose: true });

/**
 * The predict route's JSON body reader. express.json (body-parser) does the same job through
 * several modules (type-is, content-type, raw-body, iconv) — a few percent of a single-row
 * request's CPU. The common request — `content-type: application/json` (utf-8 or no charset),
 * a content-length, no content-encoding — is read here: chunks up to `limit` bytes, then
 * JSON.parse with body-parser's rules (an empty body is {}, the top level must be an object
 * or an array). Anything else goes to `fallback` (express.json), so every other case —
 * other charsets, compressed or chunked bodies, other types — behaves exactly as before.
 */
export function predictBody(limit: number, fallback: RequestHandler): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const type = req.headers["content-type"];
    const length = req.headers["content-length"];
    const plain = type === "application/json" || type === "application/json; charset=utf-8" || type === "application/json;charset=utf-8";
    if (!plain || length === undefined || req.headers["content-encoding"] !== undefined || req.readableEnded) return fallback(req, res, next);
    const declared = Number(length);
    if (!Number.isInteger(declared) || declared < 0) return fallback(req, res, next);
    let done = false;
    const finish = (err: Error | null, body?: unknown) => {
      if (done) return;
      done = true;
      req.off("data", onData).off("end", onEnd).off("error", onError).off("aborted", onAborted);
      if (err) {
        req.resume(); // discard the rest, so the connection stays usable for the 413
        return next(err);
      }
      req.body = body;
      next();
    };
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) return finish(bodyError(413, "request entity too large"));
      chunks.push(chunk);
    };
    const onEnd = () => {
      if (received !== declared) return finish(bodyError(400, "request size did not match content length"));
      const text = (chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)).toString("utf8");
      if (text.length === 0) return finish(null, {});
      const first = text[0] === "{" || text[0] === "[" ? text[0] : /\S/.exec(text)?.[0];
      if (first !== "{" && first !== "[") return finish(bodyError(400, "the body must be a JSON object or array"));
      try {
        finish(null, JSON.parse(text));
      } catch (err) {
        finish(bodyError(400, (err as Error).message));
      }
    };
    const onError = (err: Error) => finish(bodyError(400, err.message));
    const onAborted = () => finish(bodyError(400, "request aborted"));
    req.on("data", onData).on("end", onEnd).on("error", onError).on("aborted", onAborted);
    if (declared > limit) finish(bodyError(413, "request entity too large"));
  };
}
