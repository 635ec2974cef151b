import type { Viewer } from "../../platform/auth";
import { Bus } from "../../platform/bus";
import { sql, withKeyLock, type Db, type Tx } from "../../platform/db";
import { notFound, OuroError } from "../../platform/errors";
import { recordAudit } from "../audit/audit.service";
import { DeploymentEntity } from "./deployment.entity";
import { accessDeployment, DEPLOYMENT_CHANGED_TOPIC } from "./deployment.service";
import { rolloutOf } from "./rollout";

/** Something that still needs a deployment, so it may not be deleted. */
export interface DeploymentUse {
  kind: "labellingTask" | "pipeline" | "pipelineRun" | "job" | "rollout";
  id: string;
  name: string;
  /** How it uses the deployment, for a person. */
  how: string;
}

/** What this check reads of a pipeline's spec and triggers (pipelines/pipeline.spec.ts). */
interface PipelineRefs {
  spec: { params?: unknown; steps?: { id: string; kind: string; params?: unknown }[] };
  triggers: { kind: string }[];
}

/** The id appears somewhere in the JSON (a step's params, a trigger, a job's payload). */
const mentions = (value: unknown, id: string) => JSON.stringify(value ?? null).includes(id);

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

  const pipelines = await sql<{ id: string; name: string } & PipelineRefs>(
    tx,
    `SELECT id, name, spec, triggers FROM pipelines WHERE project_id = $1 AND (strpos(spec::text, $2) > 0 OR strpos(triggers::text, $2) > 0) ORDER BY name`,
    [d.projectId, d.id],
  );
  for (const p of pipelines) {
    for (const step of p.spec.steps ?? []) {
      if (mentions(step.params, d.id)) uses.push({ kind: "pipeline", id: p.id, name: p.name, how: `step ${step.id} (${step.kind})` });
    }
    if (mentions(p.spec.params, d.id)) uses.push({ kind: "pipeline", id: p.id, name: p.name, how: "its default params" });
    for (const t of p.triggers) if (mentions(t, d.id)) uses.push({ kind: "pipeline", id: p.id, name: p.name, how: `its ${t.kind} trigger` });
  }

  const runs = await sql<{ id: string; name: string; status: string }>(
    tx,
    `SELECT r.id, p.name, r.status FROM pipeline_runs r JOIN pipelines p ON p.id = r.pipeline_id
     WHERE r.project_id = $1 AND r.status IN ('queued', 'running') AND (strpos(r.spec::text, $2) > 0 OR strpos(r.params::text, $2) > 0)
     ORDER BY r.created_at`,
    [d.projectId, d.id],
  );
  for (const r of runs) uses.push({ kind: "pipelineRun", id: r.id, name: r.name, how: r.status });

  const jobs = await sql<{ id: string; kind: string; status: string }>(
    tx,
    `SELECT id, kind, status FROM jobs WHERE project_id = $1 AND status IN ('queued', 'running') AND strpos(payload::text, $2) > 0 ORDER BY created_at`,
    [d.projectId, d.id],
  );
  for (const j of jobs) uses.push({ kind: "job", id: j.id, name: `${j.kind} ${j.id}`, how: j.status });

  const rollout = rolloutOf(d);
  if (rollout && (rollout.status === "running" || rollout.status === "awaitingApproval")) {
    uses.push({ kind: "rollout", id: d.id, name: `of ${rollout.challenger}`, how: `${rollout.status}; approve or roll it back first` });
  }
  return uses;
}

const KIND_TEXT: Record<DeploymentUse["kind"], string> = { labellingTask: "labelling task", pipeline: "pipeline", pipelineRun: "pipeline run of", job: "job", rollout: "a rollout" };

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
      ...(uses.length ? [`it is still used by ${uses.map((u) => `${KIND_TEXT[u.kind]} ${u.name} (${u.how})`).join("; ")}`] : []),
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
