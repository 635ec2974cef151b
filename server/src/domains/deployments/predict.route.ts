// The REST hot path: POST /v1/endpoints/{name}/predict and /labels. GraphQL has the same
// operations (predict, logLabels); this route skips the GraphQL machinery for latency.
// GET /v1/endpoints/{name}/status shows what this
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
