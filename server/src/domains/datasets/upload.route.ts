import type { Request, Response } from "express";
import type { AppServices } from "../../platform/graphql/context";
import { badInput, OuroError, unauthenticated } from "../../platform/errors";
import { requireRole } from "../projects/project.service";
import { ArtifactEntity } from "../runs/artifact.entity";

const SAFE_NAME = /[^\w.-]+/g;

/** A display name only: never used as a path (blobs are addressed by their hash). */
export function uploadName(raw: unknown): string {
  const base = String(raw ?? "upload").split(/[\\/]/).pop() ?? "upload";
  const cleaned = base.replace(SAFE_NAME, "_").replace(/^\.+/, "").slice(0, 200);
  return cleaned || "upload";
}

/**
 * POST /v1/uploads?projectId=...&filename=... with the file as the raw request body.
 * The bytes stream into the artifact store (hashed on the way, size-limited); a body over
 * the limit gets 413 and leaves neither a file nor a row behind. The answer's uploadId is
 * what `ingestDataset(source: { uploadId })` takes.
 */
export function uploadHandler(app: AppServices) {
  return async (req: Request, res: Response): Promise<void> => {
    const viewer = req.viewer;
    if (!viewer) throw unauthenticated();
    const projectId = String(req.query.projectId ?? "");
    if (!/^[0-9a-f-]{36}$/i.test(projectId)) throw badInput("projectId query parameter is required");
    await requireRole(app.db, viewer, projectId, "editor");
    const max = app.config.ingest.maxBytes;
    const declared = Number(req.header("content-length") ?? NaN);
    if (Number.isFinite(declared) && declared > max) throw new OuroError("PAYLOAD_TOO_LARGE", `upload larger than ${max} bytes`);
    // A client that stops sending (slowloris) would hold a socket and a partial file for as
    // long as it likes: past the idle timeout the request is destroyed, which fails put() and
    // removes the partial file.
    const idleMs = app.config.ingest.uploadIdleTimeoutMs;
    const onIdle = () => req.destroy(new OuroError("BAD_USER_INPUT", `the upload sent nothing for ${idleMs} ms`));
    req.setTimeout(idleMs, onIdle);
    let blob;
    try {
      blob = await app.artifacts.put(req, { maxBytes: max });
      req.off("timeout", onIdle);
      req.setTimeout(0);
    } catch (err) {
      req.unpipe();
      req.resume(); // drain, so the client gets our answer rather than a reset
      // The rest of the body may never be read (the stream was torn down mid-upload): the
      // connection must not be reused, or the client's next request on it waits forever.
      if (!res.headersSent) res.setHeader("connection", "close");
      throw err;
    }
    if (blob.byteSize === 0) throw badInput("the upload is empty");
    const artifact = await app.db.getRepository(ArtifactEntity).save({
      projectId,
      runId: null,
      name: uploadName(req.query.filename),
      kind: "upload",
      sha256: blob.sha256,
      byteSize: String(blob.byteSize),
      contentType: String(req.header("content-type") ?? "application/octet-stream").slice(0, 200),
    });
    res.status(201).json({ uploadId: artifact.id, name: artifact.name, sha256: blob.sha256, byteSize: blob.byteSize });
  };
}
