import type { Viewer } from "../../platform/auth";
import { Bus } from "../../platform/bus";
import { sql, withKeyLock, type Db, type Tx } from "../../platform/db";
import { notFound, OuroError } from "../../platform/errors";
import { recordAudit } from "../audit/audit.service";
import { describeUses, type InFlightKind, inFlightUses, type Use } from "../pipelines/references";
import { DeploymentEntity } from "./deployment.entity";
import { accessDeployment, DEPLOYMENT_CHANGED_TOPIC } from "./deployment.service";
import { rolloutOf } from "./rollout";

/** Something that still needs a deployment, so it may not be deleted. */
export type DeploymentUse = Use<"labellingTask" | "rollout" | InFlightKind>;

/**
 * Who still needs the deployment, within its project. A labelling task over its prediction
 * log would lose its queue and its human labels (labelling_tasks.deployment_id cascades); a
 * pipeline or a job in flight names the deployment in JSON, not by foreign key, and would
 * fail later; a rollout in progress is a decision still being made on its traffic.
 */
export async function usesOfDeployment(tx: Tx, d: DeploymentEntity): Promise<DeploymentUse[]> {
  const uses: DeploymentUse[] = [];
  const tasks = await sql<{ id: string; name: string; status: string }>(
    tx,
    `SELECT id, name, status FROM labelling_tasks WHERE project_id = $1 AND (deployment_id = $2 OR source->>'deploymentId' = $3) ORDER BY name`,
    [d.projectId, d.id, d.id],
  );
  for (const t of tasks) uses.push({ kind: "labellingTask", id: t.id, name: t.name, how: `${t.status}, labels rows of its prediction log; delete the task first or its labels are lost` });

  uses.push(...(await inFlightUses(tx, d.projectId, d.id)));

  const rollout = rolloutOf(d);
  if (rollout && (rollout.status === "running" || rollout.status === "awaitingApproval")) {
    uses.push({ kind: "rollout", id: d.id, name: `of ${rollout.challenger}`, how: `${rollout.status}; approve or roll it back first` });
  }
  return uses;
}

const KIND_TEXT = { labellingTask: "labelling task", rollout: "a rollout" };

/**
 * Deletes a deployment, refused (CONFLICT, naming each reason) while it is active, so live
 * traffic never disappears by accident, or while anything still needs it. In one
 * transaction, under the same lock as every other change of the deployment: the row (its
 * monitors cascade; a trigger removes its prediction log and labels, migrations 0005), an
 * audit entry with what went with it, and a DEPLOYMENT_CHANGED message, on which serving
 * processes find the row gone and drop the endpoint.
 */
export async function deleteDeployment(db: Db, viewer: Viewer, id: string, requestId?: string): Promise<DeploymentEntity> {
  const checked = await accessDeployment(db, viewer, id, "editor");
  return withKeyLock(db, `deployment:${checked.id}`, async (tx) => {
    // Locked: a labelling task or monitor created meanwhile waits for this row (its foreign key).
    const d = await tx.getRepository(DeploymentEntity).findOne({ where: { id: checked.id }, lock: { mode: "pessimistic_write" } });
    if (!d) throw notFound("deployment", id);
    const uses = await usesOfDeployment(tx, d);
    const reasons = [
      ...(d.status === "active" ? ["it is active: stop it first with setDeploymentStatus(active: false)"] : []),
      ...(uses.length ? [`it is still used by ${describeUses(uses, KIND_TEXT)}`] : []),
    ];
    if (reasons.length) throw new OuroError("CONFLICT", `deployment ${d.name} cannot be deleted: ${reasons.join("; ")}`, { active: d.status === "active", usedBy: uses });
    const [{ monitors }] = await sql<{ monitors: number }>(tx, `SELECT count(*)::int AS monitors FROM monitors WHERE deployment_id = $1`, [d.id]);
    const [{ predictions }] = await sql<{ predictions: number }>(tx, `SELECT count(*)::int AS predictions FROM prediction_log WHERE deployment_id = $1`, [d.id]);
    await tx.query(`DELETE FROM deployments WHERE id = $1`, [d.id]);
    await recordAudit(tx, {
      projectId: d.projectId,
      actorId: viewer.userId,
      action: "deployment.delete",
      targetType: "deployment",
      targetId: d.id,
      data: { name: d.name, revision: d.revision, monitors, predictions },
      requestId,
    });
    await Bus.publish(tx, DEPLOYMENT_CHANGED_TOPIC, { id: d.id, revision: d.revision + 1, deleted: true });
    return d;
  });
}
