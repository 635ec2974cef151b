import { createReadStream } from "node:fs";
import path from "node:path";
import type { ArtifactStore } from "../../platform/artifacts";
import type { Config } from "../../platform/config";
import { badInput } from "../../platform/errors";
import { runInSubprocess } from "../../platform/subprocess";
import { withTempDir } from "../../platform/tmp";
import type { TaskContext, TaskHandlers } from "../../platform/tasks";
import { ArtifactEntity } from "../runs/artifact.entity";
import { DatasetVersionEntity } from "./dataset-version.entity";
import { registerVersion, saveProfile, versionArtifact } from "./dataset.service";
import type { Converted } from "./ingest.work";
import type { DatasetProfile } from "./profile.work";
import type { Expectation, QualityReport } from "./quality.work";
import { fetchToFile } from "./sources/fetch-url";
import type { FormatSpec } from "./sources/formats";
import { resolveAllowedPath } from "./sources/paths";

export const INGEST_DATASET = "datasets.ingest";
export const PROFILE_DATASET = "datasets.profile";

const INGEST_WORK = path.join(__dirname, "ingest.work.ts");
const PROFILE_WORK = path.join(__dirname, "profile.work.ts");
const SQL_TIMEOUT_MS = 10 * 60_000;
const DOWNLOAD_TIMEOUT_MS = 30 * 60_000;

export type IngestSource =
  | { kind: "upload"; artifactId: string }
  | { kind: "path"; path: string }
  | { kind: "url"; url: string }
  | { kind: "sql"; source: string; query: string };

export interface IngestPayload {
  datasetId: string;
  source: IngestSource;
  format: FormatSpec | null;
  tags: string[];
}

export interface ProfilePayload {
  versionId: string;
  expectations: Expectation[];
}

/** What a version records of where it came from: enough to redo it, no credentials. */
export function describeSource(source: IngestSource, extra: Record<string, unknown> = {}): Record<string, unknown> {
  if (source.kind === "url") {
    const u = new URL(source.url);
    u.username = "";
    u.password = "";
    return { kind: "url", url: u.toString(), ...extra };
  }
  return { ...source, ...extra };
}

export function datasetTasks(store: ArtifactStore, config: Config): TaskHandlers {
  const ingest = async (ctx: TaskContext<IngestPayload>) => {
    const { source, format, tags, datasetId } = ctx.payload;
    return withTempDir(config.dataDir, "ingest-", async (tmp) => {
      const out = path.join(tmp, "data.parquet");
      let converted: Converted;
      let where: Record<string, unknown> = {};
      if (source.kind === "sql") {
        const url = config.ingest.sqlSources[source.source];
        if (!url) throw badInput(`no SQL source named ${source.source} is configured (OURO_SQL_SOURCES)`);
        await ctx.progress(0.05, `querying ${source.source}`);
        converted = await runInSubprocess<unknown, Converted>(INGEST_WORK, "sqlToParquet", { url, query: source.query, maxRows: config.ingest.sqlMaxRows, timeoutMs: SQL_TIMEOUT_MS, out }, { signal: ctx.signal });
      } else {
        let file: string;
        let nameHint: string | undefined;
        if (source.kind === "upload") {
          const upload = await ctx.db.getRepository(ArtifactEntity).findOneBy({ id: source.artifactId, projectId: ctx.projectId, kind: "upload" });
          if (!upload) throw badInput(`upload ${source.artifactId} not found in this project`);
          file = await store.localPath(upload.sha256);
          nameHint = upload.name;
          where = { name: upload.name, sha256: upload.sha256 };
        } else if (source.kind === "path") {
          file = await resolveAllowedPath(source.path, config.ingest.roots);
          nameHint = path.basename(file);
          where = { resolvedPath: file };
        } else {
          await ctx.progress(0.05, "downloading");
          file = path.join(tmp, "download");
          const got = await fetchToFile(source.url, file, {
            maxBytes: config.ingest.maxBytes,
            timeoutMs: DOWNLOAD_TIMEOUT_MS,
            allowPrivate: config.ingest.allowPrivateUrls,
            allowedHosts: config.ingest.allowedHosts,
            extraCaCertificates: config.ingest.extraCaCertificates,
          });
          nameHint = new URL(got.finalUrl).pathname.split("/").pop();
          where = { bytes: got.bytes, contentType: got.contentType };
        }
        await ctx.progress(0.3, "converting to Parquet");
        converted = await runInSubprocess<unknown, Converted>(INGEST_WORK, "fileToParquet", { file, spec: format, nameHint, out }, { signal: ctx.signal });
      }
      await ctx.progress(0.8, `storing ${converted.rowCount} rows`);
      const blob = await store.put(createReadStream(out));
      const { version, created } = await registerVersion(ctx.db, {
        projectId: ctx.projectId,
        datasetId,
        sha256: blob.sha256,
        byteSize: blob.byteSize,
        schema: converted.schema,
        rowCount: converted.rowCount,
        source: describeSource(source, { format, ...where }),
        tags,
      });
      if (!created) await ctx.note(`identical content is already version ${version.version}`);
      return { versionId: version.id, version: version.version, created, rowCount: converted.rowCount };
    });
  };

  const profile = async (ctx: TaskContext<ProfilePayload>) => {
    const version = await ctx.db.getRepository(DatasetVersionEntity).findOneByOrFail({ id: ctx.payload.versionId, projectId: ctx.projectId });
    const artifact = await versionArtifact(ctx.db, version);
    const file = await store.localPath(artifact.sha256);
    await ctx.progress(0.1, `profiling ${version.rowCount} rows`);
    const result = await runInSubprocess<unknown, DatasetProfile & { quality: QualityReport | null }>(PROFILE_WORK, "profileParquet", { file, expectations: ctx.payload.expectations }, { signal: ctx.signal });
    await saveProfile(ctx.db, version.id, result as unknown as Record<string, unknown>);
    return { versionId: version.id, columns: result.columns.length, qualityPassed: result.quality?.passed ?? null };
  };

  return { [INGEST_DATASET]: ingest as TaskHandlers[string], [PROFILE_DATASET]: profile as TaskHandlers[string] };
}
