import {
  DatasetDocument,
  DatasetPreviewDocument,
  DatasetProfileDocument,
  DatasetsDocument,
  DatasetVersionDocument,
  DatasetVersionsDocument,
  IngestDatasetDocument,
  ProfileDatasetDocument,
  type ExpectationInput,
  type FormatInput,
  type IngestSourceInput,
} from "../generated/graphql";
import { JobHandle, type ProfileResult, type VersionResult } from "../job-handle";
import type { DataPreview, DatasetVersion, DatasetWithLatest, Page, PageArgs } from "../types";
import type { ClientContext } from "./context";
import { JobsApi } from "./jobs";

/** Bytes the SDK can upload, in Node and in browsers (a File is a Blob). */
export type UploadData = Blob | Uint8Array | ArrayBuffer | ReadableStream<Uint8Array> | string;

/** What POST /v1/uploads answers. */
export interface UploadedFile {
  uploadId: string;
  name: string;
  sha256: string;
  byteSize: number;
}

export interface IngestOptions {
  projectId: string;
  /** The dataset the new version goes into (created on first use). */
  dataset: string;
  /** Detected from the file name and content when omitted. */
  format?: FormatInput;
  tags?: string[];
  /** A retried call with the same key returns the same job. */
  idempotencyKey?: string;
}

export interface UploadOptions extends IngestOptions {
  /** Shown in lineage and used to detect the format; default the File's name, else "upload". */
  filename?: string;
  contentType?: string;
  signal?: AbortSignal;
}

export class DatasetsApi {
  private readonly jobs: JobsApi;
  constructor(private readonly ctx: ClientContext) {
    this.jobs = new JobsApi(ctx);
  }

  /**
   * Sends bytes to the server's artifact store (POST /v1/uploads) and nothing more; the
   * answer's `uploadId` is what `ingest({ uploadId })` reads. A body over the server's limit
   * is refused with PAYLOAD_TOO_LARGE and leaves nothing behind.
   */
  async uploadFile(projectId: string, data: UploadData, options: { filename?: string; contentType?: string; signal?: AbortSignal } = {}): Promise<UploadedFile> {
    const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
    const filename = options.filename ?? fileName(data) ?? "upload";
    return this.ctx.http.rest<UploadedFile>("POST", "/v1/uploads", {
      query: { projectId, filename },
      body: { bytes, contentType: options.contentType },
      // A resent upload stores the same blob again under a new id: harmless, so retry (not streams).
      retry: true,
      signal: options.signal,
      timeoutMs: 10 * 60_000,
    });
  }

  /**
   * Uploads a file (a browser File or Blob, bytes, text or a stream) and starts the job that
   * ingests it as a new version of `dataset`. `await handle.result()` gives `{ versionId }`.
   * In Node, `uploadPath` from `@ouro/client-sdk/src/node` reads a file from disk.
   */
  async upload(data: UploadData, options: UploadOptions): Promise<JobHandle<VersionResult>> {
    const { filename, contentType, signal, ...ingest } = options;
    const uploaded = await this.uploadFile(options.projectId, data, { filename, contentType, signal });
    return this.ingest({ uploadId: uploaded.uploadId }, ingest);
  }

  /** Starts an ingest from an upload, a server path (under OURO_INGEST_ROOTS), a URL or SQL. */
  async ingest(source: IngestSourceInput, options: IngestOptions): Promise<JobHandle<VersionResult>> {
    const { ingestDataset } = await this.ctx.http.request(
      IngestDatasetDocument,
      { input: { projectId: options.projectId, dataset: options.dataset, source, format: options.format, tags: options.tags, idempotencyKey: options.idempotencyKey } },
      // With a key, a resent call returns the same job.
      { retry: options.idempotencyKey !== undefined },
    );
    return new JobHandle<VersionResult>(ingestDataset, this.jobs);
  }

  /** Starts a profile of a version (per-column statistics, the drift reference) with optional data-quality expectations. */
  async profile(versionId: string, expectations?: ExpectationInput[]): Promise<JobHandle<ProfileResult>> {
    const { profileDataset } = await this.ctx.http.request(ProfileDatasetDocument, { versionId, expectations });
    return new JobHandle<ProfileResult>(profileDataset, this.jobs);
  }

  /** The stored profile of a version (null before a profile job has run on it). */
  async getProfile(versionId: string): Promise<Record<string, unknown> | null> {
    const { datasetVersion } = await this.ctx.http.request(DatasetProfileDocument, { id: versionId });
    return datasetVersion.profile ?? null;
  }

  /** Rows of a version, `limit` (default 50) from `offset`. */
  async preview(versionId: string, page: { limit?: number; offset?: number } = {}): Promise<DataPreview> {
    const { datasetVersion } = await this.ctx.http.request(DatasetPreviewDocument, { id: versionId, limit: page.limit ?? 50, offset: page.offset ?? 0 });
    return datasetVersion.preview;
  }

  async list(projectId: string, page: PageArgs = {}): Promise<Page<DatasetWithLatest>> {
    const { datasets } = await this.ctx.http.request(DatasetsDocument, { projectId, first: page.first, after: page.after });
    return datasets;
  }

  /** A dataset by id, with its latest version. */
  async get(id: string): Promise<DatasetWithLatest> {
    const { dataset } = await this.ctx.http.request(DatasetDocument, { id });
    return dataset;
  }

  /** A dataset by name in a project, or null. */
  async findByName(projectId: string, name: string): Promise<DatasetWithLatest | null> {
    let after: string | null = null;
    for (;;) {
      const page: Page<DatasetWithLatest> = await this.list(projectId, { first: 100, after });
      const found = page.nodes.find((d) => d.name === name);
      if (found) return found;
      if (!page.pageInfo.hasNextPage || !page.pageInfo.endCursor) return null;
      after = page.pageInfo.endCursor;
    }
  }

  async version(id: string): Promise<DatasetVersion> {
    const { datasetVersion } = await this.ctx.http.request(DatasetVersionDocument, { id });
    return datasetVersion;
  }

  /** A dataset's versions, newest first. */
  async versions(datasetId: string, page: PageArgs = {}): Promise<Page<DatasetVersion>> {
    const { datasetVersions } = await this.ctx.http.request(DatasetVersionsDocument, { datasetId, first: page.first, after: page.after });
    return datasetVersions;
  }
}

function fileName(data: UploadData): string | undefined {
  const name = (data as { name?: unknown }).name;
  return typeof name === "string" && name ? name : undefined;
}
