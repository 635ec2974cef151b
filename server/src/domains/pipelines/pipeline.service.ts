import type { Viewer } from "../../platform/auth";
import { Bus } from "../../platform/bus";
import { sql, type Db, type Tx } from "../../platform/db";
import { badInput, notFound, OuroError } from "../../platform/errors";
import type { Feed } from "../../platform/live";
import { recordAudit } from "../audit/audit.service";
import type { DatasetVersionEntity } from "../datasets/dataset-version.entity";
import { cancelJob } from "../jobs/job.service";
import { requireRole, requireRowAccess } from "../projects/project.service";
import { PipelineRunEntity, PipelineRunStepEntity } from "./pipeline-run.entity";
import { PipelineEntity } from "./pipeline.entity";
import { PIPELINE_WAKE_TOPIC, pipelineRunTopic, pipelineTopic, touchRun } from "./pipeline.orchestrator";
import { newSalt, webhookSecret } from "./pipeline.secret";
import { validateSpec, validateTriggers, type PipelineSpec, type TriggerSpec } from "./pipeline.spec";

const NAME = /^[a-z0-9][\w.-]{0,99}$/i;
const MAX_PARAMS_BYTES = 64 * 1024;

export const accessPipeline = async (db: Db, viewer: Viewer, id: string, role: "viewer" | "editor" = "viewer") =>
  requireRowAccess(db, viewer, /^[0-9a-f-]{36}$/i.test(id) ? await db.getRepository(PipelineEntity).findOneBy({ id }) : null, "pipeline", id, role);

export const accessPipelineRun = async (db: Db, viewer: Viewer, id: string, role: "viewer" | "editor" = "viewer") =>
  requireRowAccess(db, viewer, /^[0-9a-f-]{36}$/i.test(id) ? await db.getRepository(PipelineRunEntity).findOneBy({ id }) : null, "pipeline run", id, role);

/** Steps that write into a dataset named by a literal: a trigger on that dataset would start the pipeline again and again. */
function writtenDatasets(spec: PipelineSpec): string[] {
  return spec.steps.flatMap((s) => {
    const name = s.kind === "ingest" ? s.params.dataset : s.kind === "applyRecipe" || s.kind === "buildTrainingSet" ? s.params.outputDataset : undefined;
    return typeof name === "string" ? [name] : [];
  });
}

/** Checks spec and triggers against the project: datasets and monitors a trigger names must be its own. */
async function checkDefinition(db: Db, projectId: string, rawSpec: unknown, rawTriggers: unknown): Promise<{ spec: PipelineSpec; triggers: TriggerSpec[] }> {
  const { spec } = validateSpec(rawSpec);
  const triggers = validateTriggers(rawTriggers);
  const written = writtenDatasets(spec);
  for (const [i, t] of triggers.entries()) {
    if (t.kind === "datasetVersion") {
      const [d] = await sql<{ name: string }>(db, "SELECT name FROM datasets WHERE id = $1 AND project_id = $2", [t.datasetId, projectId]);
      if (!d) throw badInput(`triggers[${i}].datasetId: dataset ${t.datasetId} not found in this project`, { path: `triggers[${i}].datasetId` });
      if (written.includes(d.name)) throw badInput(`triggers[${i}]: the pipeline writes into dataset ${d.name}, so this trigger would start it again and again`, { path: `triggers[${i}]` });
    }
    if (t.kind === "alert" && t.monitorId) {
      const [m] = await sql(db, "SELECT 1 FROM monitors WHERE id = $1 AND project_id = $2", [t.monitorId, projectId]);
      if (!m) throw badInput(`triggers[${i}].monitorId: monitor ${t.monitorId} not found in this project`, { path: `triggers[${i}].monitorId` });
    }
  }
  return { spec, triggers };
}

export interface PipelineSecrets {
  configuredKey: string | null;
}

/** Creates a pipeline; the answer carries its webhook secret, shown this once. */
export async function createPipeline(
  db: Db,
  viewer: Viewer,
  input: { projectId: string; name: string; spec: unknown; triggers?: unknown },
  secrets: PipelineSecrets,
  requestId?: string,
): Promise<{ pipeline: PipelineEntity; webhookSecret: string }> {
  await requireRole(db, viewer, input.projectId, "editor");
  if (!NAME.test(input.name)) throw badInput("pipeline name: 1 to 100 letters, digits, '.', '-' or '_'", { path: "name" });
  const { spec, triggers } = await checkDefinition(db, input.projectId, input.spec, input.triggers);
  const pipeline = await db.transaction(async (tx) => {
    const [taken] = await sql(tx, "SELECT 1 FROM pipelines WHERE project_id = $1 AND name = $2", [input.projectId, input.name]);
    if (taken) throw new OuroError("CONFLICT", `a pipeline named ${input.name} already exists in this project`);
    const p = await tx.getRepository(PipelineEntity).save({ projectId: input.projectId, name: input.name, spec, triggers, webhookSecretSalt: newSalt(), createdById: viewer.userId });
    await recordAudit(tx, { projectId: p.projectId, actorId: viewer.userId, action: "pipeline.create", targetType: "pipeline", targetId: p.id, data: { steps: spec.steps.length, triggers: triggers.map((t) => t.kind) }, requestId });
    return p;
  });
  return { pipeline, webhookSecret: await webhookSecret(db, secrets.configuredKey, pipeline.id, pipeline.webhookSecretSalt!) };
}

/** Replaces name, spec and/or triggers. Runs already started keep the spec they started with. */
export async function updatePipeline(db: Db, viewer: Viewer, input: { id: string; name?: string | null; spec?: unknown; triggers?: unknown }, requestId?: string): Promise<PipelineEntity> {
  const p = await accessPipeline(db, viewer, input.id, "editor");
  if (input.name != null && !NAME.test(input.name)) throw badInput("pipeline name: 1 to 100 letters, digits, '.', '-' or '_'", { path: "name" });
  const { spec, triggers } = await checkDefinition(db, p.projectId, input.spec ?? p.spec, input.triggers ?? p.triggers);
  return db.transaction(async (tx) => {
    if (input.name != null && input.name !== p.name) {
      const [taken] = await sql(tx, "SELECT 1 FROM pipelines WHERE project_id = $1 AND name = $2", [p.projectId, input.name]);
      if (taken) throw new OuroError("CONFLICT", `a pipeline named ${input.name} already exists in this project`);
    }
    // Whoever edits a pipeline is whose permissions its unattended runs use from now on.
    await tx.update(PipelineEntity, { id: p.id }, { name: input.name ?? p.name, spec, triggers, createdById: viewer.userId, updatedAt: new Date() } as never);
    await recordAudit(tx, { projectId: p.projectId, actorId: viewer.userId, action: "pipeline.update", targetType: "pipeline", targetId: p.id, data: { steps: spec.steps.length, triggers: triggers.map((t) => t.kind) }, requestId });
    return tx.findOneByOrFail(PipelineEntity, { id: p.id });
  });
}

export async function rotateWebhookSecret(db: Db, viewer: Viewer, id: string, secrets: PipelineSecrets, requestId?: string): Promise<string> {
  const p = await accessPipeline(db, viewer, id, "editor");
  const salt = newSalt();
  await db.transaction(async (tx) => {
    await tx.update(PipelineEntity, { id: p.id }, { webhookSecretSalt: salt });
    await recordAudit(tx, { projectId: p.projectId, actorId: viewer.userId, action: "pipeline.rotateWebhookSecret", targetType: "pipeline", targetId: p.id, requestId });
  });
  return webhookSecret(db, secrets.configuredKey, p.id, salt);
}

export interface NewRun {
  trigger: Record<string, unknown> & { kind: string };
  params?: Record<string, unknown>;
  force?: boolean;
  /** Who asked (null for schedules, data, alerts, webhooks: the pipeline's owner acts then). */
  actorId: string | null;
  /** One run per trigger event: the same key returns the first run. */
  idempotencyKey?: string | null;
  requestId?: string;
}

/**
 * Creates a run and its step rows (all pending) in the caller's transaction, audited with
 * its trigger. A worker's pipeline loop takes it from there.
 */
export async function createRun(tx: Tx, pipeline: PipelineEntity, r: NewRun): Promise<{ run: PipelineRunEntity; created: boolean }> {
  const params = r.params ?? {};
  if (JSON.stringify(params).length > MAX_PARAMS_BYTES) throw badInput(`params: at most ${MAX_PARAMS_BYTES} bytes`);
  const { spec } = validateSpec(pipeline.spec);
  // No lock is taken before this insert: a repeated key waits here for a pass that is
  // updating the first run, and that pass must never wait for us (see touchRun).
  const [row] = await sql<{ id: string }>(
    tx,
    `INSERT INTO pipeline_runs (project_id, pipeline_id, status, trigger, spec, params, force, created_by_id, idempotency_key)
     VALUES ($1, $2, 'queued', $3, $4, $5, $6, $7, $8)
     ON CONFLICT (pipeline_id, idempotency_key) DO NOTHING RETURNING id`,
    [pipeline.projectId, pipeline.id, r.trigger, spec, params, r.force ?? false, r.actorId ?? pipeline.createdById, r.idempotencyKey ?? null],
  );
  if (!row) return { run: await tx.findOneByOrFail(PipelineRunEntity, { pipelineId: pipeline.id, idempotencyKey: r.idempotencyKey! }), created: false };
  await tx.getRepository(PipelineRunStepEntity).insert(
    spec.steps.map((s, position) => ({ projectId: pipeline.projectId, pipelineRunId: row.id, stepId: s.id, kind: s.kind, status: "pending" as const, position })),
  );
  await recordAudit(tx, {
    projectId: pipeline.projectId,
    actorId: r.actorId,
    action: "pipeline.run",
    targetType: "pipelineRun",
    targetId: row.id,
    data: { pipelineId: pipeline.id, trigger: r.trigger, force: r.force ?? false },
    requestId: r.requestId,
  });
  await touchRun(tx, { id: row.id, pipelineId: pipeline.id });
  await Bus.publish(tx, PIPELINE_WAKE_TOPIC);
  return { run: await tx.findOneByOrFail(PipelineRunEntity, { id: row.id }), created: true };
}

export async function runPipeline(
  db: Db,
  viewer: Viewer,
  input: { pipelineId: string; params?: Record<string, unknown> | null; force?: boolean; idempotencyKey?: string | null },
  requestId?: string,
): Promise<PipelineRunEntity> {
  const pipeline = await accessPipeline(db, viewer, input.pipelineId, "editor");
  const { run } = await db.transaction((tx) =>
    createRun(tx, pipeline, { trigger: { kind: "manual", userId: viewer.userId }, params: input.params ?? {}, force: input.force, actorId: viewer.userId, idempotencyKey: input.idempotencyKey ?? null, requestId }),
  );
  return run;
}

/** Stops a run: its running step jobs are cancelled, pending steps skipped. A finished run is returned as it is. */
export async function cancelPipelineRun(db: Db, viewer: Viewer, id: string, requestId?: string): Promise<PipelineRunEntity> {
  await accessPipelineRun(db, viewer, id, "editor");
  const jobs: string[] = [];
  const run = await db.transaction(async (tx) => {
    const locked = await sql(tx, "SELECT id FROM pipeline_runs WHERE id = $1 AND status IN ('queued', 'running') FOR UPDATE", [id]);
    const run = await tx.findOneByOrFail(PipelineRunEntity, { id });
    if (locked.length === 0) return run;
    for (const s of await tx.findBy(PipelineRunStepEntity, { pipelineRunId: id })) {
      if (s.status === "running") {
        if (s.jobId) jobs.push(s.jobId);
        await tx.update(PipelineRunStepEntity, { id: s.id }, { status: "cancelled", finishedAt: new Date() });
      } else if (s.status === "pending") await tx.update(PipelineRunStepEntity, { id: s.id }, { status: "skipped" });
    }
    await tx.update(PipelineRunEntity, { id }, { status: "cancelled", error: "cancelled", finishedAt: new Date() });
    await recordAudit(tx, { projectId: run.projectId, actorId: viewer.userId, action: "pipeline.cancel", targetType: "pipelineRun", targetId: id, requestId });
    await touchRun(tx, run);
    return tx.findOneByOrFail(PipelineRunEntity, { id });
  });
  for (const jobId of jobs) await cancelJob(db, jobId).catch(() => undefined);
  return run;
}

export async function runSteps(db: Db, runId: string): Promise<PipelineRunStepEntity[]> {
  return db.getRepository(PipelineRunStepEntity).find({ where: { pipelineRunId: runId }, order: { position: "ASC" } });
}

/** pipelineRunUpdated for one run: the run whenever its cursor passes `after`. */
export function runFeed(db: Db, runId: string): Feed<PipelineRunEntity> {
  return {
    topic: pipelineRunTopic(runId),
    fetchAfter: async (cursor) => {
      const run = await db.getRepository(PipelineRunEntity).findOneBy({ id: runId });
      return run && BigInt(run.seq) > cursor ? [run] : [];
    },
    cursorOf: (run) => BigInt(run.seq),
  };
}

/** pipelineRunUpdated for a pipeline: each of its runs as it changes, in commit order. */
export function pipelineFeed(db: Db, pipelineId: string): Feed<PipelineRunEntity> {
  return {
    topic: pipelineTopic(pipelineId),
    fetchAfter: async (cursor, limit) =>
      db.getRepository(PipelineRunEntity).createQueryBuilder("r").where("r.pipeline_id = :pipelineId AND r.seq > :cursor", { pipelineId, cursor: cursor.toString() }).orderBy("r.seq", "ASC").limit(limit).getMany(),
    cursorOf: (run) => BigInt(run.seq),
  };
}

// Triggers -----------------------------------------------------------------------------

/** Pipelines of a project having a trigger that contains `match` (a jsonb containment test). */
async function pipelinesWithTrigger(via: Db | Tx, projectId: string, match: Record<string, unknown>): Promise<PipelineEntity[]> {
  const ids = await sql<{ id: string }>(via, "SELECT id FROM pipelines WHERE project_id = $1 AND triggers @> $2::jsonb", [projectId, JSON.stringify([match])]);
  return ids.length ? via.getRepository(PipelineEntity).findByIds(ids.map((r) => r.id)) : [];
}

/** A new version of a watched dataset starts a run with params.datasetVersionId (inside the version's transaction). */
export async function triggerPipelinesOnDatasetVersion(tx: Tx, version: DatasetVersionEntity): Promise<void> {
  for (const p of await pipelinesWithTrigger(tx, version.projectId, { kind: "datasetVersion", datasetId: version.datasetId })) {
    await createRun(tx, p, {
      trigger: { kind: "datasetVersion", datasetId: version.datasetId, versionId: version.id },
      params: { datasetVersionId: version.id },
      actorId: null,
      idempotencyKey: `dataset:${version.id}`,
    });
  }
}

/**
 * Starts a run of every pipeline of the project whose triggers include an alert trigger for
 * the alert's monitor (or for any monitor, when the trigger names none). params.alertId and
 * params.monitorId carry the alert to the run. The same alert starts each pipeline once.
 */
export async function triggerPipelinesOnAlert(db: Db, alert: { alertId: string; projectId: string; monitorId: string | null }): Promise<void> {
  const candidates = await pipelinesWithTrigger(db, alert.projectId, { kind: "alert" });
  const matching = candidates.filter((p) => p.triggers.some((t) => t.kind === "alert" && (!t.monitorId || t.monitorId === alert.monitorId)));
  for (const p of matching) {
    await db.transaction((tx) =>
      createRun(tx, p, {
        trigger: { kind: "alert", alertId: alert.alertId, monitorId: alert.monitorId },
        params: { alertId: alert.alertId, monitorId: alert.monitorId },
        actorId: null,
        idempotencyKey: `alert:${alert.alertId}`,
      }),
    );
  }
}

/** Pipelines with a webhook trigger, for the webhook route (which has no viewer: the signature is the credential). */
export async function webhookPipeline(db: Db, id: string): Promise<PipelineEntity> {
  const p = /^[0-9a-f-]{36}$/i.test(id) ? await db.getRepository(PipelineEntity).findOneBy({ id }) : null;
  if (!p || !p.triggers.some((t) => t.kind === "webhook") || !p.webhookSecretSalt) throw notFound("pipeline webhook", id);
  return p;
}
