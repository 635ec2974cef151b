import type { Viewer } from "../../platform/auth";
import { Bus } from "../../platform/bus";
import { sql, withKeyLock, type Db, type Tx } from "../../platform/db";
import { notFound, OuroError } from "../../platform/errors";
import { recordAudit } from "../audit/audit.service";
import { describeUses, type InFlightKind, inFlightUses, type Use } from "../pipelines/references";
import { FeatureSetEntity } from "./feature-set.entity";
import { accessFeatureSet } from "./feature-set.service";

/** Every process forgets what it cached about a deleted feature set (online-access.ts). */
export const FEATURE_SET_DELETED_TOPIC = "feature-set-deleted";

/** Something that still needs a feature set, so it may not be deleted. */
export type FeatureSetUse = Use<"deployment" | "eventStream" | InFlightKind>;

/**
 * Who still uses the feature set, within its project (a feature set can only be used from
 * its own project). The references are JSON, not foreign keys: a deployment's serving graph,
 * a pipeline's steps and triggers, the spec a run in flight started with, a job's payload.
 * A pipeline's `datasetVersion` trigger on the offline dataset counts too: it waits for
 * materializations that would never come again.
 */
export async function usesOf(via: Db | Tx, fs: FeatureSetEntity): Promise<FeatureSetUse[]> {
  const uses: FeatureSetUse[] = [];
  const deployments = await sql<{ id: string; name: string; status: string }>(
    via,
    `SELECT id, name, status FROM deployments WHERE project_id = $1 AND graph->'enrich'->>'featureSetId' = $2 ORDER BY name`,
    [fs.projectId, fs.id],
  );
  for (const d of deployments) uses.push({ kind: "deployment", id: d.id, name: d.name, how: `${d.status}, its serving enriches rows from it` });

  const offline = fs.offlineDatasetId ? { datasetId: fs.offlineDatasetId, how: "on new versions of the offline store" } : undefined;
  uses.push(...(await inFlightUses(via, fs.projectId, fs.id, offline)));

  const streams = await sql<{ id: string; stream_name: string; durable_name: string }>(via, `SELECT id, stream_name, durable_name FROM event_streams WHERE feature_set_id = $1`, [fs.id]);
  for (const s of streams) uses.push({ kind: "eventStream", id: s.id, name: s.stream_name, how: `feeds it through durable ${s.durable_name} (detachEventStream first)` });
  return uses;
}

const KIND_TEXT = { deployment: "deployment", eventStream: "NATS stream" };

/**
 * Deletes a feature set, refused (CONFLICT, naming each use) while anything still uses it.
 * In one transaction: its online values, its event source (so the retention pass no longer
 * keeps history days for it; the days themselves go with retention), its dedup ids, the row,
 * and an audit entry. The offline store's dataset and its Parquet versions stay: training
 * sets name them as lineage parents, and the artifact store is content-addressed and shared.
 * The window-update lock of an event feature set is taken first, so an ingest batch in flight
 * either commits before the delete or finds the feature set gone.
 */
export async function deleteFeatureSet(db: Db, viewer: Viewer, id: string, requestId?: string): Promise<FeatureSetEntity> {
  const checked = await accessFeatureSet(db, viewer, id, "editor");
  // The key event batches take for the window update (events/apply.ts).
  return withKeyLock(db, `events:${checked.id}`, async (tx) => {
    // Locked against a concurrent delete or materialization's final update.
    const fs = await tx.getRepository(FeatureSetEntity).findOne({ where: { id: checked.id }, lock: { mode: "pessimistic_write" } });
    if (!fs) throw notFound("feature set", id);
    const uses = await usesOf(tx, fs);
    if (uses.length) {
      throw new OuroError("CONFLICT", `feature set ${fs.name} is still used by ${describeUses(uses, KIND_TEXT)}; remove those uses first`, { usedBy: uses });
    }
    const [online] = await sql<{ n: number }>(tx, `WITH gone AS (DELETE FROM online_features WHERE feature_set_id = $1 RETURNING 1) SELECT count(*)::int AS n FROM gone`, [fs.id]);
    const [source] = await sql<{ watermark: Date | null }>(tx, `DELETE FROM event_sources WHERE feature_set_id = $1 RETURNING watermark`, [fs.id]);
    await tx.query(`DELETE FROM event_ids WHERE feature_set_id = $1`, [fs.id]);
    await tx.query(`DELETE FROM feature_sets WHERE id = $1`, [fs.id]);
    await recordAudit(tx, {
      projectId: fs.projectId,
      actorId: viewer.userId,
      action: "featureSet.delete",
      targetType: "featureSet",
      targetId: fs.id,
      data: {
        name: fs.name,
        onlineRows: online.n,
        offlineDatasetId: fs.offlineDatasetId,
        materializedVersionId: fs.materializedVersionId,
        eventSource: source ? { watermark: source.watermark?.toISOString() ?? null } : null,
      },
      requestId,
    });
    await Bus.publish(tx, FEATURE_SET_DELETED_TOPIC, { featureSetId: fs.id });
    return fs;
  });
}
