import type { Viewer } from "../../platform/auth";
import { Bus } from "../../platform/bus";
import { sql, withKeyLock, type Db, type Tx } from "../../platform/db";
import { badInput, notFound, OuroError } from "../../platform/errors";
import { recordAudit } from "../audit/audit.service";
import { accessFeatureSet, holdFeatureSets } from "../features/feature-set.service";
import { accessVersion, ensureDataset } from "../datasets/dataset.service";
import { enqueueJob } from "../jobs/job.service";
import type { JobEntity } from "../jobs/job.entity";
import { accessModelVersion } from "../models/model.service";
import { ModelVersionEntity } from "../models/model-version.entity";
import { requireRole, requireRowAccess } from "../projects/project.service";
import { DeploymentEntity } from "./deployment.entity";
import { checkSimulation, type DriftSpec, type SimulationSpec } from "./simulate";
import { allModelVersionIds, checkDeploymentName, checkGraph, checkTraffic, type RouteInputLike, type ServingGraph, type Traffic } from "./deployment.spec";

export const BATCH_PREDICT = "deployments.batchPredict";
export const SIMULATE = "deployments.simulate";
export const EXPORT_PREDICTIONS = "deployments.exportPredictions";

export interface ExportPredictionsPayload {
  deploymentId: string;
  outputDatasetId: string;
  sinceMinutes: number | null;
  labelledOnly: boolean;
  labelColumn: string;
}

export interface BatchPredictPayload {
  modelVersionId: string;
  versionId: string;
  outputDatasetId: string;
}

export interface SimulatePayload {
  deploymentId: string;
  versionId: string;
  /** Rows to send (the version's rows in order, wrapping around). */
  rows: number;
  spec: SimulationSpec;
}

/** Every serving process listens here and reloads a deployment whose revision moved. */
export const DEPLOYMENT_CHANGED_TOPIC = "deployment-changed";

export interface DeployInput {
  projectId: string;
  name: string;
  /** Shorthand for one route with this version. */
  modelVersionId?: string | null;
  routes?: RouteInputLike[] | null;
  shadow?: RouteInputLike[] | null;
  stickyKey?: string | null;
  enrich?: { featureSetId: string; entityColumn: string; features?: string[] | null } | null;
  threshold?: number | null;
  microBatch?: { windowMs?: number | null; maxBatch?: number | null } | null;
}

export const graphOf = (d: DeploymentEntity) => d.graph as unknown as ServingGraph;
export const trafficOf = (d: DeploymentEntity) => d.traffic as unknown as Traffic;

export const accessDeployment = async (db: Db, viewer: Viewer, id: string, role: "viewer" | "editor" = "viewer") =>
  requireRowAccess(db, viewer, await db.getRepository(DeploymentEntity).findOneBy({ id }), "deployment", id, role);

/**
 * The deployment an endpoint URL names: an id, or a name among the projects the caller is
 * in. Names are unique per project only, so a name two of the caller's projects use is
 * ambiguous; `projectId` settles it.
 */
export async function resolveEndpoint(db: Db, viewer: Viewer, ref: string, projectId?: string | null): Promise<DeploymentEntity> {
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(ref)) return accessDeployment(db, viewer, ref);
  const rows = await sql<{ id: string }>(
    db,
    `SELECT d.id FROM deployments d
     WHERE d.name = $1 AND ($2::uuid IS NULL OR d.project_id = $2::uuid)
       AND ($3::boolean OR d.project_id IN (SELECT project_id FROM memberships WHERE user_id = $4))`,
    [ref, projectId ?? null, viewer.isAdmin, viewer.userId],
  );
  if (rows.length === 0) throw notFound("endpoint", ref);
  if (rows.length > 1) throw new OuroError("CONFLICT", `several of your projects have an endpoint named "${ref}": use its id, or add ?projectId=`);
  return db.getRepository(DeploymentEntity).findOneByOrFail({ id: rows[0].id });
}

/** Every model version named must exist in the deployment's project (others are NOT_FOUND, as always). */
async function checkVersions(db: Db | Tx, projectId: string, traffic: Traffic): Promise<void> {
  const ids = allModelVersionIds(traffic);
  const found = await sql<{ id: string; task: string | null; classes: string | null }>(db, "SELECT id, signature->>'task' AS task, signature->>'classes' AS classes FROM model_versions WHERE project_id = $1 AND id = ANY($2::uuid[])", [projectId, ids]);
  const missing = ids.filter((id) => !found.some((f) => f.id === id));
  if (missing.length) throw notFound("model version", missing[0]);
  const tasks = new Set(found.map((f) => f.task));
  if (tasks.size > 1) throw badInput(`the routes mix model tasks (${[...tasks].join(", ")}); one endpoint answers one kind of question`);
  for (const route of [...traffic.routes, ...traffic.shadow]) {
    const classes = new Set(route.modelVersionIds.map((id) => found.find((f) => f.id === id)!.classes));
    if (classes.size > 1) throw badInput(`route ${route.name}: an ensemble's models must predict the same classes`);
  }
}

export async function deployModel(db: Db, viewer: Viewer, input: DeployInput, requestId?: string): Promise<DeploymentEntity> {
  await requireRole(db, viewer, input.projectId, "editor");
  const name = checkDeploymentName(input.name);
  if (!input.modelVersionId === !input.routes) throw badInput("give either modelVersionId or routes", { field: "routes" });
  const traffic = checkTraffic({
    routes: input.routes ?? [{ name: "primary", modelVersionIds: [input.modelVersionId!], weight: 1 }],
    shadow: input.shadow,
    stickyKey: input.stickyKey,
  });
  const graph = checkGraph(input);
  if (graph.enrich) {
    const fs = await accessFeatureSet(db, viewer, graph.enrich.featureSetId);
    if (fs.projectId !== input.projectId) throw notFound("feature set", graph.enrich.featureSetId);
  }
  await checkVersions(db, input.projectId, traffic);
  return db.transaction(async (tx) => {
    if (graph.enrich) await holdFeatureSets(tx, [graph.enrich.featureSetId]);
    const taken = await sql(tx, "SELECT 1 FROM deployments WHERE project_id = $1 AND name = $2", [input.projectId, name]);
    if (taken.length) throw new OuroError("CONFLICT", `the project already has a deployment named "${name}"; use setTraffic to change it`);
    const d = await tx.getRepository(DeploymentEntity).save({
      projectId: input.projectId,
      name,
      status: "active",
      graph: graph as unknown as Record<string, unknown>,
      traffic: traffic as unknown as Record<string, unknown>,
      revision: 1,
      createdById: viewer.userId,
      updatedAt: new Date(),
    });
    await recordAudit(tx, { projectId: d.projectId, actorId: viewer.userId, action: "deployment.create", targetType: "deployment", targetId: d.id, data: { name, traffic }, requestId });
    await Bus.publish(tx, DEPLOYMENT_CHANGED_TOPIC, { id: d.id, revision: d.revision });
    return d;
  });
}

/** Changes which versions answer and in what proportion. Serving processes swap to the new revision once its models are loaded, so no request fails. */
export async function setTraffic(
  db: Db,
  viewer: Viewer | null,
  deploymentId: string,
  input: { routes: RouteInputLike[]; shadow?: RouteInputLike[] | null; stickyKey?: string | null; rollout?: Record<string, unknown> | null },
  requestId?: string,
  /** Checked on the locked row: the change is refused (CONFLICT) unless it holds. */
  precondition?: (current: DeploymentEntity) => boolean,
): Promise<DeploymentEntity> {
  const current = viewer ? await accessDeployment(db, viewer, deploymentId, "editor") : await db.getRepository(DeploymentEntity).findOneByOrFail({ id: deploymentId });
  const traffic = checkTraffic(input);
  await checkVersions(db, current.projectId, traffic);
  // A traffic change made by hand ends any rollout in progress; rollouts pass their state along.
  const stored = { ...traffic, ...(input.rollout ? { rollout: input.rollout } : {}) };
  const action = input.rollout ? `deployment.rollout.${String(input.rollout.status)}` : "deployment.traffic";
  return changeDeployment(db, current.id, viewer?.userId ?? null, action, { traffic: stored }, (d) => {
    if (precondition && !precondition(d)) throw new OuroError("CONFLICT", "the deployment changed meanwhile; nothing was done");
    return { traffic: stored as unknown as Record<string, unknown> };
  }, requestId);
}

/** Stops (or restarts) serving an endpoint; its log and history stay. */
export async function setDeploymentStatus(db: Db, viewer: Viewer, deploymentId: string, status: "active" | "stopped", requestId?: string): Promise<DeploymentEntity> {
  const current = await accessDeployment(db, viewer, deploymentId, "editor");
  return changeDeployment(db, current.id, viewer.userId, status === "active" ? "deployment.start" : "deployment.stop", {}, () => ({ status }), requestId);
}

async function changeDeployment(
  db: Db,
  id: string,
  actorId: string | null,
  action: string,
  data: Record<string, unknown>,
  patch: (d: DeploymentEntity) => Partial<DeploymentEntity>,
  requestId?: string,
): Promise<DeploymentEntity> {
  return withKeyLock(db, `deployment:${id}`, async (tx) => {
    const d = await tx.getRepository(DeploymentEntity).findOneByOrFail({ id });
    Object.assign(d, patch(d), { revision: d.revision + 1, updatedAt: new Date() });
    await tx.getRepository(DeploymentEntity).save(d);
    await recordAudit(tx, { projectId: d.projectId, actorId, action, targetType: "deployment", targetId: d.id, data: { ...data, revision: d.revision }, requestId });
    await Bus.publish(tx, DEPLOYMENT_CHANGED_TOPIC, { id: d.id, revision: d.revision });
    return d;
  });
}

export async function listDeployments(db: Db, viewer: Viewer, projectId: string): Promise<DeploymentEntity[]> {
  await requireRole(db, viewer, projectId, "viewer");
  return db.getRepository(DeploymentEntity).find({ where: { projectId }, order: { createdAt: "ASC" } });
}

export interface LabelInput {
  requestId: string;
  label: unknown;
}

/** Ground truth for logged predictions, joined later by request id. A label sent again replaces the earlier one. */
export async function logLabels(db: Db, deployment: DeploymentEntity, labels: LabelInput[]): Promise<number> {
  if (!Array.isArray(labels) || labels.length === 0) throw badInput("give at least one label");
  if (labels.length > 10_000) throw badInput("at most 10000 labels per call");
  labels.forEach((l, i) => {
    if (typeof l?.requestId !== "string" || !/^[\w.:-]{1,100}$/.test(l.requestId)) throw badInput(`labels[${i}].requestId: the request id a prediction answered with`, { index: i });
    if (l.label === undefined || l.label === null || (typeof l.label === "number" && !Number.isFinite(l.label))) throw badInput(`labels[${i}].label: a class or a number`, { index: i });
    if (typeof l.label !== "string" && typeof l.label !== "number" && typeof l.label !== "boolean") throw badInput(`labels[${i}].label: a class (string) or a number`, { index: i });
  });
  const last = new Map(labels.map((l) => [l.requestId, l.label]));
  await db.query(
    `INSERT INTO prediction_labels (deployment_id, request_id, label)
     SELECT $1, r, l FROM unnest($2::text[], $3::jsonb[]) AS t(r, l)
     ON CONFLICT (deployment_id, request_id) DO UPDATE SET label = EXCLUDED.label, at = now()`,
    [deployment.id, [...last.keys()], [...last.values()].map((v) => JSON.stringify(v))],
  );
  return last.size;
}

export const versionsOf = (db: Db, ids: string[]) => db.getRepository(ModelVersionEntity).findBy(ids.map((id) => ({ id })));

/**
 * Scores a whole dataset version with a model version (its fitted recipe first, as serving
 * does) into a new version of `outputDataset`, as a job. The output keeps the input columns
 * and adds `prediction` (and `probability_<class>` for classifiers).
 */
export async function startBatchPrediction(
  db: Db,
  viewer: Viewer,
  input: { modelVersionId: string; datasetVersionId: string; outputDataset: string },
  maxAttempts: number,
  requestId?: string,
): Promise<JobEntity> {
  const mv = await accessModelVersion(db, viewer, input.modelVersionId, "editor");
  const version = await accessVersion(db, viewer, input.datasetVersionId);
  if (version.projectId !== mv.projectId) throw notFound("dataset version", input.datasetVersionId);
  return db.transaction(async (tx) => {
    const output = await ensureDataset(tx, mv.projectId, input.outputDataset);
    const { job } = await enqueueJob(tx, {
      projectId: mv.projectId,
      kind: BATCH_PREDICT,
      payload: { modelVersionId: mv.id, versionId: version.id, outputDatasetId: output.id },
      createdById: viewer.userId,
      maxAttempts,
    });
    await recordAudit(tx, { projectId: mv.projectId, actorId: viewer.userId, action: "model.batchPredict", targetType: "modelVersion", targetId: mv.id, data: { jobId: job.id, datasetVersionId: version.id, outputDataset: input.outputDataset }, requestId });
    return job;
  });
}

export interface SimulateInput {
  deploymentId: string;
  datasetVersionId: string;
  rows: number;
  rate: number;
  batchSize?: number | null;
  labelColumn?: string | null;
  labelDelaySeconds?: number | null;
  drift?: DriftSpec | null;
  seed?: number | null;
}

/** Replays a dataset version against an endpoint as a job (see deployment.tasks.ts). */
export async function startSimulation(db: Db, viewer: Viewer, input: SimulateInput, maxAttempts: number, requestId?: string): Promise<JobEntity> {
  const d = await accessDeployment(db, viewer, input.deploymentId, "editor");
  const version = await accessVersion(db, viewer, input.datasetVersionId);
  if (version.projectId !== d.projectId) throw notFound("dataset version", input.datasetVersionId);
  if (!Number.isInteger(input.rows) || input.rows < 1 || input.rows > 10_000_000) throw badInput("rows: 1 to 10000000", { field: "rows" });
  if (Number(version.rowCount) === 0) throw badInput("the dataset version has no rows to replay");
  if (input.labelColumn && !version.schema.some((c) => c.name === input.labelColumn)) throw badInput(`labelColumn ${input.labelColumn} is not a column of the dataset version`, { field: "labelColumn" });
  const spec = checkSimulation({
    rate: input.rate,
    batchSize: input.batchSize ?? 1,
    labelColumn: input.labelColumn ?? null,
    labelDelayMs: (input.labelDelaySeconds ?? 0) * 1000,
    drift: input.drift ?? {},
    seed: input.seed ?? 1,
  });
  const payload: SimulatePayload = { deploymentId: d.id, versionId: version.id, rows: input.rows, spec };
  return db.transaction(async (tx) => {
    const { job } = await enqueueJob(tx, { projectId: d.projectId, kind: SIMULATE, payload: payload as unknown as Record<string, unknown>, createdById: viewer.userId, maxAttempts: Math.min(maxAttempts, 1) });
    await recordAudit(tx, { projectId: d.projectId, actorId: viewer.userId, action: "deployment.simulate", targetType: "deployment", targetId: d.id, data: { jobId: job.id, datasetVersionId: version.id, rows: input.rows, drift: spec.drift }, requestId });
    return job;
  });
}

export interface DeploymentStats {
  at: Date;
  windowSeconds: number;
  rows: number;
  rowsPerSecond: number;
  p50Ms: number | null;
  p99Ms: number | null;
  labelled: number;
  routes: { modelVersionId: string; role: string; rows: number; p50Ms: number | null }[];
}

/** Throughput and latency of the last `windowSeconds` of the prediction log. */
export async function deploymentStats(db: Db, deploymentId: string, windowSeconds: number): Promise<DeploymentStats> {
  const routes = await sql<{ model_version_id: string; role: string; rows: number; p50: number | null }>(
    db,
    `SELECT model_version_id, role, count(*)::int AS rows, percentile_cont(0.5) WITHIN GROUP (ORDER BY latency_ms) AS p50
     FROM prediction_log WHERE deployment_id = $1 AND at > now() - make_interval(secs => $2) GROUP BY 1, 2 ORDER BY 1, 2`,
    [deploymentId, windowSeconds],
  );
  const [overall] = await sql<{ rows: number; p50: number | null; p99: number | null; labelled: number }>(
    db,
    `SELECT count(*)::int AS rows, percentile_cont(0.5) WITHIN GROUP (ORDER BY l.latency_ms) AS p50,
            percentile_cont(0.99) WITHIN GROUP (ORDER BY l.latency_ms) AS p99, count(b.request_id)::int AS labelled
     FROM prediction_log l LEFT JOIN prediction_labels b ON b.deployment_id = l.deployment_id AND b.request_id = l.request_id
     WHERE l.deployment_id = $1 AND l.role = 'primary' AND l.at > now() - make_interval(secs => $2)`,
    [deploymentId, windowSeconds],
  );
  return {
    at: new Date(),
    windowSeconds,
    rows: overall.rows,
    rowsPerSecond: overall.rows / windowSeconds,
    p50Ms: overall.p50,
    p99Ms: overall.p99,
    labelled: overall.labelled,
    routes: routes.map((r) => ({ modelVersionId: r.model_version_id, role: r.role, rows: r.rows, p50Ms: r.p50 })),
  };
}

/** The export job's payload for a deployment, with the label column defaulting to the served model's target. */
export async function predictionExportPayload(
  db: Db,
  d: DeploymentEntity,
  outputDatasetId: string,
  input: { sinceMinutes?: number | null; labelledOnly?: boolean | null; labelColumn?: string | null },
): Promise<ExportPredictionsPayload> {
  const sinceMinutes = input.sinceMinutes ?? null;
  if (sinceMinutes !== null && (!Number.isInteger(sinceMinutes) || sinceMinutes < 1 || sinceMinutes > 525_600)) throw badInput("sinceMinutes: 1 to 525600", { field: "sinceMinutes" });
  let labelColumn = input.labelColumn ?? null;
  if (!labelColumn) {
    const first = trafficOf(d).routes[0].modelVersionIds[0];
    const [row] = await sql<{ target: string | null }>(db, "SELECT signature->>'target' AS target FROM model_versions WHERE id = $1", [first]);
    labelColumn = row?.target ?? "label";
  }
  if (!/^[^\u0000-\u001f]{1,200}$/.test(labelColumn)) throw badInput("labelColumn: a column name", { field: "labelColumn" });
  return { deploymentId: d.id, outputDatasetId, sinceMinutes, labelledOnly: input.labelledOnly ?? true, labelColumn };
}

/** Logged predictions (and their labels) as a new version of `outputDataset`, as a job. */
export async function startPredictionExport(
  db: Db,
  viewer: Viewer,
  input: { deploymentId: string; outputDataset: string; sinceMinutes?: number | null; labelledOnly?: boolean | null; labelColumn?: string | null },
  maxAttempts: number,
  requestId?: string,
): Promise<JobEntity> {
  const d = await accessDeployment(db, viewer, input.deploymentId, "editor");
  return db.transaction(async (tx) => {
    const output = await ensureDataset(tx, d.projectId, input.outputDataset);
    const payload = await predictionExportPayload(db, d, output.id, input);
    const { job } = await enqueueJob(tx, { projectId: d.projectId, kind: EXPORT_PREDICTIONS, payload: payload as unknown as Record<string, unknown>, createdById: viewer.userId, maxAttempts });
    await recordAudit(tx, { projectId: d.projectId, actorId: viewer.userId, action: "deployment.exportPredictions", targetType: "deployment", targetId: d.id, data: { jobId: job.id, outputDataset: input.outputDataset }, requestId });
    return job;
  });
}
