// Node-only helpers: import from "@ouro/client-sdk/src/node", never from browser code.
import { openAsBlob } from "node:fs";
import { basename } from "node:path";
import type { OuroClient } from "./client";
import type { UploadOptions } from "./api/datasets";
import type { JobHandle, VersionResult } from "./job-handle";

/** A file on disk as a Blob that streams from disk when sent (not read into memory first). */
export async function fileBlob(path: string, contentType?: string): Promise<Blob> {
  return openAsBlob(path, contentType ? { type: contentType } : undefined);
}

/**
 * Uploads a local file and starts its ingest into `options.dataset`; the file name (for format
 * detection) defaults to the path's base name.
 */
export async function uploadPath(client: OuroClient, path: string, options: Omit<UploadOptions, "filename"> & { filename?: string }): Promise<JobHandle<VersionResult>> {
  return client.datasets.upload(await fileBlob(path, options.contentType), { ...options, filename: options.filename ?? basename(path) });
}
