import { createReadStream } from "node:fs";
import type { ArtifactStore } from "../../platform/artifacts";
import type { Viewer } from "../../platform/auth";
import { sql, withKeyLock, type Db, type Tx } from "../../platform/db";
import { badInput, OuroError } from "../../platform/errors";
import { requireRowAccess } from "../projects/project.service";
import { ArtifactEntity } from "../runs/artifact.entity";
import { DatasetVersionEntity, type ColumnSchema } from "./dataset-version.entity";
import { DatasetEntity } from "./dataset.entity";

const NAME = /^[a-z0-9][\w.-]{0,99}$/i;

export function checkDatasetName(name: string): void {
  if (!NAME.test(name)) throw badInput("dataset name: 1 to 100 letters, digits, '.', '-' or '_', starting with a letter or digit", { field: "dataset" });
}

/** The dataset called `name` in the project, created on first use. */
export async function ensureDataset(tx: Tx, projectId: string, name: string): Promise<DatasetEntity> {
  checkDatasetName(name);
  await tx.query(`INSERT INTO datasets (project_id, name) VALUES ($1, $2) ON CONFLICT (project_id, name) DO NOTHING`, [projectId, name]);
  return tx.findOneByOrFail(DatasetEntity, { projectId, name });
}


export async function accessDataset(db: Db, viewer: Viewer, id: string, role: "viewer" | "editor" = "viewer"): Promise<DatasetEntity> {
  return requireRowAccess(db, viewer, await db.getRepository(DatasetEntity).findOneBy({ id }), "dataset", id, role);
}

export async function accessVersion(db: Db, viewer: Viewer, id: string, role: "viewer" | "editor" = "viewer"): Promise<DatasetVersionEntity> {
  return requireRowAccess(db, viewer, await db.getRepository(DatasetVersionEntity).findOneBy({ id }), "dataset version", id, role);
}

export interface NewVersion {
  projectId: string;
  datasetId: string;
  sha256: string;
  byteSize: number;
  schema: ColumnSchema[];
  rowCount: number;
  source: Record<string, unknown>;
  tags: string[];
  parentVersionIds?: string[];
  recipeId?: string | null;
}

export type VersionHook = (tx: Tx, version: DatasetVersionEntity) => Promise<unknown>;
const versionHooks = new Set<VersionHook>();

/**
 * Runs `hook` inside the transaction that creates each new dataset version, so what it does
 * (e.g. enqueue a re-materialization) happens exactly when the version comes to exist.
 */
export function onVersionCreated(hook: VersionHook): () => void {
  versionHooks.add(hook);
  return () => versionHooks.delete(hook);
}

/**
 * Registers stored Parquet bytes as the dataset's next version. Identical content is the same
 * version: a retried ingest, or re-uploading an unchanged file, returns the existing one.
 */
export async function registerVersion(db: Db, v: NewVersion): Promise<{ version: DatasetVersionEntity; created: boolean }> {
  return withKeyLock(db, `dataset:${v.datasetId}`, async (tx) => {
    const existing = await tx.findOneBy(DatasetVersionEntity, { datasetId: v.datasetId, contentHash: v.sha256 });
    if (existing) return { version: existing, created: false };
    const dataset = await tx.findOneByOrFail(DatasetEntity, { id: v.datasetId });
    const [{ next }] = await sql<{ next: number }>(tx, "SELECT coalesce(max(version), 0) + 1 AS next FROM dataset_versions WHERE dataset_id = $1", [v.datasetId]);
    const artifact = await tx.getRepository(ArtifactEntity).save({
      projectId: v.projectId,
      runId: null,
      name: `${dataset.name}-v${next}.parquet`,
      kind: "dataset-version",
      sha256: v.sha256,
      byteSize: String(v.byteSize),
      contentType: "application/vnd.apache.parquet",
    });
    const version = await tx.getRepository(DatasetVersionEntity).save({
      projectId: v.projectId,
      datasetId: v.datasetId,
      version: next,
      contentHash: v.sha256,
      schema: v.schema,
      rowCount: String(v.rowCount),
      byteSize: String(v.byteSize),
      source: v.source,
      tags: v.tags,
      profile: null,
      artifactId: artifact.id,
      parentVersionIds: v.parentVersionIds ?? [],
      recipeId: v.recipeId ?? null,
    });
    for (const hook of versionHooks) await hook(tx, version);
    return { version, created: true };
  });
}

export async function latestVersion(db: Db, datasetId: string): Promise<DatasetVersionEntity | null> {
  return db.getRepository(DatasetVersionEntity).findOne({ where: { datasetId }, order: { version: "DESC" } });
}

export async function versionArtifact(db: Db, version: DatasetVersionEntity): Promise<ArtifactEntity> {
  if (!version.artifactId) throw new OuroError("CONFLICT", `dataset version ${version.id} has no stored data`);
  return db.getRepository(ArtifactEntity).findOneByOrFail({ id: version.artifactId });
}

export async function saveProfile(db: Db, versionId: string, profile: Record<string, unknown>): Promise<void> {
  await db.query("UPDATE dataset_versions SET profile = $2 WHERE id = $1", [versionId, profile]);
}

/** A Parquet file a job wrote, stored and registered as the dataset's next version (or the existing one with the same content). */
export async function storeParquetVersion(
  db: Db,
  store: ArtifactStore,
  file: string,
  v: Omit<NewVersion, "sha256" | "byteSize" | "tags"> & { tags?: string[] },
): Promise<{ version: DatasetVersionEntity; created: boolean }> {
  const blob = await store.put(createReadStream(file));
  return registerVersion(db, { ...v, tags: v.tags ?? [], sha256: blob.sha256, byteSize: blob.byteSize });
}
