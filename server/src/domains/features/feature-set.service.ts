import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import type { Viewer } from "../../platform/auth";
import { preparedRead, sql, type Db, type Tx } from "../../platform/db";
import { badInput, notFound } from "../../platform/errors";
import { recordAudit } from "../audit/audit.service";
import { DatasetEntity } from "../datasets/dataset.entity";
import type { DatasetVersionEntity } from "../datasets/dataset-version.entity";
import { enqueueJob } from "../jobs/job.service";
import { requireRole, requireRowAccess } from "../projects/project.service";
import { RecipeEntity } from "../recipes/recipe.entity";
import { FeatureSetEntity } from "./feature-set.entity";

export const MATERIALIZE_FEATURE_SET = "features.materialize";
export const BUILD_TRAINING_SET = "features.trainingSet";

const NAME = /^[a-z][a-z0-9_]{0,62}$/;
const COLUMN = /^[^\u0000-\u001f]{1,200}$/;
const UPSERT_BATCH = 5000;

export interface NewFeatureSet {
  projectId: string;
  name: string;
  sourceDatasetId: string;
  sourceVersionId?: string | null;
  recipeId?: string | null;
  entityKeys: string[];
  timestampColumn?: string | null;
  features?: string[] | null;
  autoMaterialize?: boolean | null;
}

/**
 * Inside the transaction that records a new use of feature sets (a deployment enriching from
 * one, a job reading one): keeps them from being deleted until it commits. deleteFeatureSet
 * locks the row for update and then looks for uses, so it either sees this one or runs first,
 * and then this finds the feature set gone.
 */
export async function holdFeatureSets(tx: Tx, ids: readonly string[]): Promise<void> {
  const wanted = [...new Set(ids)];
  const rows = await sql<{ id: string }>(tx, "SELECT id FROM feature_sets WHERE id = ANY($1::uuid[]) FOR SHARE", [wanted]);
  const held = new Set(rows.map((r) => r.id));
  const gone = wanted.find((id) => !held.has(id));
  if (gone) throw notFound("feature set", gone);
}

export async function accessFeatureSet(db: Db, viewer: Viewer, id: string, role: "viewer" | "editor" = "viewer"): Promise<FeatureSetEntity> {
  return requireRowAccess(db, viewer, await db.getRepository(FeatureSetEntity).findOneBy({ id }), "feature set", id, role);
}

export async function createFeatureSet(db: Db, viewer: Viewer, input: NewFeatureSet, requestId?: string): Promise<FeatureSetEntity> {
  await requireRole(db, viewer, input.projectId, "editor");
  if (!NAME.test(input.name)) throw badInput("feature set name: lowercase letters, digits and _, starting with a letter (it prefixes column names)", { field: "name" });
  const columns = [...input.entityKeys, ...(input.timestampColumn ? [input.timestampColumn] : []), ...(input.features ?? [])];
  if (input.entityKeys.length < 1 || input.entityKeys.length > 8) throw badInput("entityKeys: 1 to 8 columns");
  if (columns.some((c) => !COLUMN.test(c))) throw badInput("column names must be 1 to 200 printable characters");
  const source = await db.getRepository(DatasetEntity).findOneBy({ id: input.sourceDatasetId, projectId: input.projectId });
  if (!source) throw badInput(`source dataset ${input.sourceDatasetId} not found in this project`);
  if (input.recipeId && !(await db.getRepository(RecipeEntity).findOneBy({ id: input.recipeId, projectId: input.projectId }))) {
    throw badInput(`recipe ${input.recipeId} not found in this project`);
  }
  return db.transaction(async (tx) => {
    await tx.query(`INSERT INTO datasets (project_id, name, description) VALUES ($1, $2, $3) ON CONFLICT (project_id, name) DO NOTHING`, [
      input.projectId,
      `features-${input.name}`,
      `Offline store of feature set ${input.name}`,
    ]);
    const offline = await tx.findOneByOrFail(DatasetEntity, { projectId: input.projectId, name: `features-${input.name}` });
    const fs = await tx.getRepository(FeatureSetEntity).save({
      projectId: input.projectId,
      name: input.name,
      entityKeys: input.entityKeys,
      timestampColumn: input.timestampColumn ?? null,
      features: input.features ?? [],
      sourceDatasetId: input.sourceDatasetId,
      sourceVersionId: input.sourceVersionId ?? null,
      recipeId: input.recipeId ?? null,
      offlineDatasetId: offline.id,
      materializedVersionId: null,
      materializedAt: null,
      autoMaterialize: input.autoMaterialize ?? false,
    });
    await recordAudit(tx, { projectId: input.projectId, actorId: viewer.userId, action: "featureSet.create", targetType: "featureSet", targetId: fs.id, requestId });
    return fs;
  });
}

/**
 * Writes the latest values per entity from NDJSON lines {key, time, values}. An older event
 * never overwrites a newer one, so materializing an old source version cannot roll back the
 * online store.
 */
export async function upsertOnline(db: Db, featureSetId: string, ndjsonFile: string): Promise<number> {
  let keys: string[] = [];
  let times: (string | null)[] = [];
  let values: string[] = [];
  let written = 0;
  const flush = async () => {
    if (!keys.length) return;
    await db.query(
      `INSERT INTO online_features (feature_set_id, entity_key, event_time, "values")
       SELECT $1, k, t, v FROM unnest($2::text[], $3::timestamptz[], $4::jsonb[]) AS u(k, t, v)
       ON CONFLICT (feature_set_id, entity_key) DO UPDATE
         SET event_time = EXCLUDED.event_time, "values" = EXCLUDED."values", updated_at = now()
         WHERE online_features.event_time IS NULL OR EXCLUDED.event_time IS NULL OR EXCLUDED.event_time >= online_features.event_time`,
      [featureSetId, keys, times, values],
    );
    written += keys.length;
    keys = [];
    times = [];
    values = [];
  };
  for await (const line of createInterface({ input: createReadStream(ndjsonFile), crlfDelay: Infinity })) {
    if (!line) continue;
    const r = JSON.parse(line) as { key: string; time: string | null; values: Record<string, unknown> };
    keys.push(r.key);
    times.push(r.time);
    values.push(JSON.stringify(r.values));
    if (keys.length >= UPSERT_BATCH) await flush();
  }
  await flush();
  return written;
}

/** What a client may ask the online store for in one request (GraphQL and REST); serving's own lookups are bounded by its row limit. */
export const MAX_ONLINE_KEYS = 1000;

/** The latest values of each key, in the order asked (null for a key not in the store). */
export async function onlineFeatures(db: Db, featureSetId: string, keys: string[]): Promise<{ key: string; values: Record<string, unknown> | null; eventTime: Date | null }[]> {
  const rows = await preparedRead<{ entity_key: string; values: Record<string, unknown>; event_time: Date | null }>(
    db,
    "ouro_online_features",
    `SELECT entity_key, "values", event_time FROM online_features WHERE feature_set_id = $1 AND entity_key = ANY($2::text[])`,
    [featureSetId, keys],
  );
  const byKey = new Map(rows.map((r) => [r.entity_key, r]));
  return keys.map((key) => ({ key, values: byKey.get(key)?.values ?? null, eventTime: byKey.get(key)?.event_time ?? null }));
}

export async function markMaterialized(db: Db, featureSetId: string, versionId: string, features: string[]): Promise<void> {
  await db.getRepository(FeatureSetEntity).update({ id: featureSetId }, { materializedVersionId: versionId, materializedAt: new Date(), features });
}

/** New data in a source dataset re-materializes the feature sets that asked for it. */
export async function onNewVersion(tx: Tx, version: DatasetVersionEntity, maxAttempts: number): Promise<string[]> {
  const sets = await tx.getRepository(FeatureSetEntity).findBy({ sourceDatasetId: version.datasetId, autoMaterialize: true });
  const jobs: string[] = [];
  for (const fs of sets.filter((s) => s.sourceVersionId === null)) {
    const { job } = await enqueueJob(tx, {
      projectId: fs.projectId,
      kind: MATERIALIZE_FEATURE_SET,
      payload: { featureSetId: fs.id, sourceVersionId: version.id },
      idempotencyKey: `materialize:${fs.id}:${version.id}`,
      maxAttempts,
    });
    await recordAudit(tx, { projectId: fs.projectId, actorId: null, action: "featureSet.autoMaterialize", targetType: "featureSet", targetId: fs.id, data: { jobId: job.id, versionId: version.id } });
    jobs.push(job.id);
  }
  return jobs;
}
