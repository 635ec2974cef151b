import { sql, type Db } from "../../platform/db";
import { badInput } from "../../platform/errors";

export interface Reference {
  versionId: string;
  modelVersionId: string | null;
  target: string | null;
  task: "classification" | "regression" | null;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

/**
 * The model version a deployment serves. The deployment's graph and traffic name it (their
 * exact shape belongs to serving; any model version id they mention counts, the one with the
 * most traffic first when weights are given); failing that, the version that answered the
 * deployment's latest logged prediction.
 */
export async function deployedModelVersion(db: Db, deployment: { id: string; projectId: string; graph: unknown; traffic: unknown }): Promise<string | null> {
  const mentioned = [...new Set(JSON.stringify([deployment.traffic, deployment.graph]).match(UUID) ?? [])];
  if (mentioned.length) {
    const rows = await sql<{ id: string }>(db, "SELECT id FROM model_versions WHERE project_id = $1 AND id = ANY($2::uuid[])", [deployment.projectId, mentioned]);
    const found = new Set(rows.map((r) => r.id));
    const ordered = mentioned.filter((id) => found.has(id));
    if (ordered.length) return ordered[0];
  }
  const [last] = await sql<{ model_version_id: string }>(
    db,
    "SELECT model_version_id FROM prediction_log WHERE deployment_id = $1 AND role = 'primary' ORDER BY prediction_log.seq DESC LIMIT 1",
    [deployment.id],
  );
  return last?.model_version_id ?? null;
}

/**
 * The drift reference of a monitor on `deployment`: the given dataset version, or the training
 * data of the deployed model version (its run's `trainVersionId` param, written by training).
 * The model version's signature also gives the target column and the task.
 */
export async function resolveReference(db: Db, deployment: { id: string; projectId: string; graph: unknown; traffic: unknown }, explicitVersionId: string | null): Promise<Reference> {
  const modelVersionId = await deployedModelVersion(db, deployment);
  let target: string | null = null;
  let task: Reference["task"] = null;
  let trainVersionId: string | null = null;
  if (modelVersionId) {
    const [mv] = await sql<{ signature: { target?: string; task?: string } | null; train_version_id: string | null }>(
      db,
      `SELECT mv.signature, (SELECT value FROM params p WHERE p.run_id = mv.run_id AND p.key = 'trainVersionId') AS train_version_id
       FROM model_versions mv WHERE mv.id = $1`,
      [modelVersionId],
    );
    target = typeof mv?.signature?.target === "string" ? mv.signature.target : null;
    if (mv?.signature?.task) task = mv.signature.task === "regression" ? "regression" : "classification";
    trainVersionId = mv?.train_version_id ?? null;
  }
  const versionId = explicitVersionId ?? trainVersionId;
  if (!versionId) {
    throw badInput(
      modelVersionId
        ? `the deployed model version ${modelVersionId} does not record its training data; give referenceVersionId`
        : "the deployment serves no model version Ouro can find yet; give referenceVersionId",
      { field: "referenceVersionId" },
    );
  }
  return { versionId, modelVersionId, target, task };
}
