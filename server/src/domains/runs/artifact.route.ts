import { pipeline } from "node:stream/promises";
import type { Request, Response } from "express";
import type { AppServices } from "../../platform/graphql/context";
import { badInput, unauthenticated } from "../../platform/errors";
import { requireRowAccess } from "../projects/project.service";
import { uploadName } from "../datasets/upload.route";
import { ArtifactEntity } from "./artifact.entity";

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * GET /v1/artifacts/{id}: an artifact's bytes (model files, evaluations, exports), for
 * project members. Addressed by id, so no path from the caller ever reaches the file system.
 */
export function artifactDownloadHandler(app: AppServices) {
  return async (req: Request, res: Response): Promise<void> => {
    if (!req.viewer) throw unauthenticated();
    const id = String(req.params.id);
    if (!UUID.test(id)) throw badInput("artifact id expected");
    const artifact = await requireRowAccess(app.db, req.viewer, await app.db.getRepository(ArtifactEntity).findOneBy({ id }), "artifact", id, "viewer");
    const stream = await app.artifacts.open(artifact.sha256);
    res.setHeader("content-type", artifact.contentType || "application/octet-stream");
    res.setHeader("content-length", artifact.byteSize);
    res.setHeader("content-disposition", `attachment; filename="${uploadName(artifact.name)}"`);
    res.setHeader("x-content-type-options", "nosniff");
    res.setHeader("etag", `"${artifact.sha256}"`);
    await pipeline(stream, res);
  };
}
