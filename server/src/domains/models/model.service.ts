import type { Viewer } from "../../platform/auth";
import { sql, withKeyLock, type Db } from "../../platform/db";
import { badInput, OuroError } from "../../platform/errors";
import { recordAudit } from "../audit/audit.service";
import { requireRowAccess } from "../projects/project.service";
import { ArtifactEntity } from "../runs/artifact.entity";
import { accessRun } from "../runs/run.service";
import { ModelAliasEntity } from "./model-alias.entity";
import { ModelVersionEntity } from "./model-version.entity";
import { ModelEntity } from "./model.entity";

const MODEL_NAME = /^[a-z0-9][\w.-]{0,99}$/i;
const ALIAS = /^[a-z][a-z0-9_-]{0,39}$/;

/** What a training run stores as its model artifact (JSON): everything needed to serve it, nothing executable. */
export interface ModelArtifact {
  format: 1;
  signature: { features: { name: string; dtype: string }[]; target: string; task: string; classes?: string[] };
  recipeId: string | null;
  /** The recipe as fitted when the model was trained (absent in artifacts written before it was kept). */
  fitted?: unknown;
  metrics: Record<string, number>;
  saved: unknown;
}

export interface ModelCard {
  description?: string;
  intendedUse?: string;
  limitations?: string;
}


export const accessModel = async (db: Db, viewer: Viewer, id: string, role: "viewer" | "editor" = "viewer") =>
  requireRowAccess(db, viewer, await db.getRepository(ModelEntity).findOneBy({ id }), "model", id, role);

export const accessModelVersion = async (db: Db, viewer: Viewer, id: string, role: "viewer" | "editor" = "viewer") =>
  requireRowAccess(db, viewer, await db.getRepository(ModelVersionEntity).findOneBy({ id }), "model version", id, role);

/**
 * Registers the model a run produced as the next version of `modelName` (created on first
 * use): its artifact, signature, recipe, metrics and card, with lineage to the run.
 */
export async function registerModelVersion(
  db: Db,
  viewer: Viewer,
  input: { runId: string; model: string; card?: ModelCard | null },
  readArtifact: (a: ArtifactEntity) => Promise<ModelArtifact>,
  requestId?: string,
): Promise<ModelVersionEntity> {
  const run = await accessRun(db, viewer, input.runId, "editor");
  if (!MODEL_NAME.test(input.model)) throw badInput("model name: 1 to 100 letters, digits, '.', '-' or '_'", { field: "model" });
  const card = input.card ?? {};
  if (Object.values(card).some((v) => typeof v === "string" && v.length > 20_000)) throw badInput("model card fields: at most 20000 characters each");
  const artifact = await db.getRepository(ArtifactEntity).findOne({ where: { runId: run.id, kind: "model" }, order: { createdAt: "DESC" } });
  if (!artifact) throw new OuroError("CONFLICT", `run ${run.id} has no model artifact; train a model in it first`);
  const content = await readArtifact(artifact);
  return db.transaction(async (tx) => {
    await tx.query(`INSERT INTO models (project_id, name) VALUES ($1, $2) ON CONFLICT (project_id, name) DO NOTHING`, [run.projectId, input.model]);
    const model = await tx.findOneByOrFail(ModelEntity, { projectId: run.projectId, name: input.model });
    await tx.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`model:${model.id}`]);
    const [{ next }] = await sql<{ next: number }>(tx, "SELECT coalesce(max(version), 0) + 1 AS next FROM model_versions WHERE model_id = $1", [model.id]);
    const version = await tx.getRepository(ModelVersionEntity).save({
      projectId: run.projectId,
      modelId: model.id,
      version: next,
      runId: run.id,
      artifactId: artifact.id,
      recipeId: content.recipeId,
      signature: content.signature as unknown as Record<string, unknown>,
      metrics: content.metrics,
      card: card as Record<string, unknown>,
    });
    await recordAudit(tx, { projectId: run.projectId, actorId: viewer.userId, action: "model.register", targetType: "modelVersion", targetId: version.id, data: { model: model.name, version: next, runId: run.id }, requestId });
    return version;
  });
}

/** Points `alias` of the version's model at it; the previous holder keeps its history row. */
export async function setModelAlias(db: Db, viewer: Viewer, versionId: string, alias: string, requestId?: string): Promise<ModelAliasEntity> {
  const version = await accessModelVersion(db, viewer, versionId, "editor");
  if (!ALIAS.test(alias)) throw badInput("alias: lowercase letters, digits, '-' and '_', starting with a letter (e.g. staging, production)");
  return withKeyLock(db, `model:${version.modelId}`, async (tx) => {
    await tx.query(`UPDATE model_aliases SET replaced_at = now() WHERE model_id = $1 AND alias = $2 AND replaced_at IS NULL`, [version.modelId, alias]);
    const row = await tx.getRepository(ModelAliasEntity).save({ projectId: version.projectId, modelId: version.modelId, alias, modelVersionId: version.id, setById: viewer.userId, replacedAt: null });
    await recordAudit(tx, { projectId: version.projectId, actorId: viewer.userId, action: "model.alias", targetType: "modelVersion", targetId: version.id, data: { alias }, requestId });
    return row;
  });
}

export async function aliasHistory(db: Db, modelId: string): Promise<ModelAliasEntity[]> {
  return db.getRepository(ModelAliasEntity).find({ where: { modelId }, order: { createdAt: "DESC" } });
}

export async function versionByAlias(db: Db, modelId: string, alias: string): Promise<ModelVersionEntity | null> {
  const rows = await sql<{ id: string }>(db, "SELECT model_version_id AS id FROM model_aliases WHERE model_id = $1 AND alias = $2 AND replaced_at IS NULL", [modelId, alias]);
  return rows[0] ? db.getRepository(ModelVersionEntity).findOneBy({ id: rows[0].id }) : null;
}
