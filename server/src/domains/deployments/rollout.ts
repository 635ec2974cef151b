// Canary rollouts with automatic promotion: a challenger version takes a slice of an
// endpoint's traffic; once both it and the champion have enough labelled predictions, the
// challenger is promoted if its live metric is at least as good, or the canary is rolled
// back if not. With mode "manual" the verdict waits for approveRollout. Every step is a
// traffic revision and an audit event.
import type { Viewer } from "../../platform/auth";
import { sql, type Db } from "../../platform/db";
import { badInput, OuroError } from "../../platform/errors";
import type { Logger } from "../../platform/logger";
import { recordAudit } from "../audit/audit.service";
import { DeploymentEntity } from "./deployment.entity";
import { accessDeployment, setTraffic, trafficOf } from "./deployment.service";
import type { Route, Traffic } from "./deployment.spec";

export interface Rollout {
  challenger: string;
  champion: string;
  canaryWeight: number;
  minLabels: number;
  mode: "auto" | "manual";
  status: "running" | "awaitingApproval" | "promoted" | "rolledBack";
  startedAt: string;
  /** Set once both sides have minLabels labelled predictions. */
  verdict: { metric: string; champion: number; challenger: number; labels: { champion: number; challenger: number }; better: boolean } | null;
  /** Who or what started it (e.g. a pipeline run). */
  reason: string | null;
}

export const rolloutOf = (d: DeploymentEntity): Rollout | null => ((d.traffic as { rollout?: Rollout }).rollout ?? null);

/** Starts a canary of `challengerVersionId` on an endpoint serving one primary route. */
export async function startRollout(
  db: Db,
  viewer: Viewer | null,
  input: { deploymentId: string; challengerVersionId: string; canaryWeight?: number | null; minLabels?: number | null; mode?: string | null; reason?: string | null },
  requestId?: string,
): Promise<DeploymentEntity> {
  const d = viewer ? await accessDeployment(db, viewer, input.deploymentId, "editor") : await db.getRepository(DeploymentEntity).findOneByOrFail({ id: input.deploymentId });
  const traffic = trafficOf(d);
  const current = rolloutOf(d);
  if (current && (current.status === "running" || current.status === "awaitingApproval")) throw new OuroError("CONFLICT", `a rollout of ${current.challenger} is already ${current.status}; approve, roll back or wait for it`);
  const champions = traffic.routes.filter((r) => r.weight > 0);
  if (champions.length !== 1) throw badInput("a rollout starts from an endpoint with one primary route; set its traffic first");
  const champion = champions[0];
  if (champion.modelVersionIds.includes(input.challengerVersionId)) throw badInput("the challenger is already the champion");
  const canaryWeight = input.canaryWeight ?? 0.1;
  if (!(canaryWeight > 0 && canaryWeight < 1)) throw badInput("canaryWeight: a fraction between 0 and 1", { field: "canaryWeight" });
  const minLabels = input.minLabels ?? 100;
  if (!Number.isInteger(minLabels) || minLabels < 1 || minLabels > 1_000_000) throw badInput("minLabels: 1 to 1000000", { field: "minLabels" });
  const mode = input.mode ?? "auto";
  if (mode !== "auto" && mode !== "manual") throw badInput('mode: "auto" or "manual"', { field: "mode" });
  const rollout: Rollout = { challenger: "challenger", champion: champion.name === "challenger" ? "champion" : champion.name, canaryWeight, minLabels, mode, status: "running", startedAt: new Date().toISOString(), verdict: null, reason: input.reason ?? null };
  const routes: Route[] = [
    { ...champion, name: rollout.champion, weight: 1 - canaryWeight },
    { name: "challenger", modelVersionIds: [input.challengerVersionId], combine: "mean", weight: canaryWeight },
  ];
  return applyTraffic(db, viewer, d.id, { ...traffic, routes }, rollout, requestId);
}

/** Setting traffic through the one validated path, carrying the rollout state along. */
async function applyTraffic(db: Db, viewer: Viewer | null, deploymentId: string, traffic: Traffic, rollout: Rollout | null, requestId?: string, precondition?: (d: DeploymentEntity) => boolean): Promise<DeploymentEntity> {
  return setTraffic(db, viewer, deploymentId, { ...traffic, rollout: rollout as unknown as Record<string, unknown> | null }, requestId, precondition);
}

type Task = "binary" | "multiclass" | "regression";

/** Live metric of one route's labelled predictions since the rollout began: accuracy, or RMSE for regression. */
async function liveMetric(db: Db, deploymentId: string, modelVersionId: string, since: string, task: Task): Promise<{ value: number | null; labels: number }> {
  const [row] = await sql<{ labels: number; accuracy: number | null; rmse: number | null }>(
    db,
    `SELECT count(*)::int AS labels,
            avg(CASE WHEN l.outputs->>'prediction' = b.label #>> '{}' THEN 1.0 ELSE 0.0 END) AS accuracy,
            sqrt(avg(CASE WHEN $4 = 'regression' THEN power((l.outputs->>'prediction')::float8 - (b.label #>> '{}')::float8, 2) END)) AS rmse
     FROM prediction_log l JOIN prediction_labels b ON b.deployment_id = l.deployment_id AND b.request_id = l.request_id
     WHERE l.deployment_id = $1 AND l.model_version_id = $2 AND l.role = 'primary' AND l.at >= $3::timestamptz`,
    [deploymentId, modelVersionId, since, task],
  );
  return { value: task === "regression" ? row.rmse : row.accuracy, labels: row.labels };
}

/**
 * Looks at every running rollout once: measures both sides, and promotes or rolls back
 * (auto) or waits for approval (manual). Safe on many workers at once: the decision is
 * applied only if the rollout is still the one measured when the row is locked, so a
 * second worker deciding the same rollout changes nothing. No lock is held while measuring.
 */
export async function advanceRollouts(db: Db, log: Logger): Promise<void> {
  const running = await sql<{ id: string }>(db, `SELECT id FROM deployments WHERE traffic->'rollout'->>'status' = 'running'`);
  for (const { id } of running) {
    try {
      const d = await db.getRepository(DeploymentEntity).findOneByOrFail({ id });
      const rollout = rolloutOf(d);
      if (!rollout || rollout.status !== "running") continue;
      const traffic = trafficOf(d);
      const champion = traffic.routes.find((r) => r.name === rollout.champion);
      const challenger = traffic.routes.find((r) => r.name === rollout.challenger);
      if (!champion || !challenger) continue;
      const [{ task }] = await sql<{ task: Task }>(db, "SELECT signature->>'task' AS task FROM model_versions WHERE id = $1", [challenger.modelVersionIds[0]]);
      const a = await liveMetric(db, id, champion.modelVersionIds[0], rollout.startedAt, task);
      const b = await liveMetric(db, id, challenger.modelVersionIds[0], rollout.startedAt, task);
      if (a.labels < rollout.minLabels || b.labels < rollout.minLabels || a.value === null || b.value === null) continue;
      const metric = task === "regression" ? "rmse" : "accuracy";
      const better = metric === "rmse" ? b.value <= a.value : b.value >= a.value;
      const verdict = { metric, champion: a.value, challenger: b.value, labels: { champion: a.labels, challenger: b.labels }, better };
      const unchanged = (current: DeploymentEntity) => current.revision === d.revision;
      if (rollout.mode === "manual") {
        await db.transaction(async (tx) => {
          const [row] = await tx.query(`UPDATE deployments SET traffic = jsonb_set(traffic, '{rollout}', $2::jsonb) WHERE id = $1 AND revision = $3 AND traffic->'rollout'->>'status' = 'running' RETURNING id`, [id, JSON.stringify({ ...rollout, status: "awaitingApproval", verdict }), d.revision]);
          if (row) await recordAudit(tx, { projectId: d.projectId, actorId: null, action: "deployment.rollout.awaitingApproval", targetType: "deployment", targetId: id, data: { verdict } });
        });
        continue;
      }
      await finish(db, null, d, { ...rollout, verdict }, better, undefined, unchanged);
      log.info({ deploymentId: id, verdict }, better ? "canary promoted" : "canary rolled back");
    } catch (err) {
      if (err instanceof OuroError && err.code === "CONFLICT") continue; // decided elsewhere meanwhile
      log.warn({ deploymentId: id, err: (err as Error).message }, "rollout check failed");
    }
  }
}

async function finish(db: Db, viewer: Viewer | null, d: DeploymentEntity, rollout: Rollout, promote: boolean, requestId?: string, precondition?: (d: DeploymentEntity) => boolean): Promise<DeploymentEntity> {
  const traffic = trafficOf(d);
  const keep = traffic.routes.find((r) => r.name === (promote ? rollout.challenger : rollout.champion))!;
  const routes: Route[] = [{ ...keep, name: "primary", weight: 1 }];
  return applyTraffic(db, viewer, d.id, { ...traffic, routes }, { ...rollout, status: promote ? "promoted" : "rolledBack" }, requestId, precondition);
}

/** Decides a rollout by hand: promote (approve) or roll back, whatever the metrics say. */
export async function decideRollout(db: Db, viewer: Viewer, deploymentId: string, promote: boolean, requestId?: string): Promise<DeploymentEntity> {
  const d = await accessDeployment(db, viewer, deploymentId, "editor");
  const rollout = rolloutOf(d);
  if (!rollout || (rollout.status !== "running" && rollout.status !== "awaitingApproval")) throw new OuroError("CONFLICT", "this endpoint has no rollout in progress");
  const status = rollout.status;
  return finish(db, viewer, d, rollout, promote, requestId, (current) => rolloutOf(current)?.status === status);
}

/** Checks rollouts every `everyMs` in a worker; stopping waits for a check in progress. */
export function startRolloutLoop(db: Db, log: Logger, everyMs: number): () => Promise<void> {
  let current: Promise<void> | null = null;
  const timer = setInterval(() => {
    current ??= advanceRollouts(db, log)
      .catch((err: unknown) => log.warn({ err: (err as Error).message }, "rollout check failed"))
      .finally(() => (current = null));
  }, everyMs);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await current;
  };
}
