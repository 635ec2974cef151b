import type { Viewer } from "../../platform/auth";
import { sql, withKeyLock, type Db } from "../../platform/db";
import { badInput, notFound, OuroError } from "../../platform/errors";
import { recordAudit } from "../audit/audit.service";
import { requireRole, requireRowAccess } from "../projects/project.service";
import { ExperimentEntity } from "./experiment.entity";
import { ParamEntity } from "./param.entity";
import { RunEntity, type RunStatus } from "./run.entity";

export const runLockKey = (runId: string) => `run:${runId}`;
const NAME = /^[\w .:\-/]{1,200}$/;
export const MAX_PARAM_VALUE = 6000;

export interface StartRunInput {
  projectId: string;
  experiment: string;
  name?: string | null;
  tags?: Record<string, string> | null;
  parentRunId?: string | null;
}

export function checkRunNames(experiment: string, name: string | null | undefined): void {
  if (!NAME.test(experiment)) throw badInput("experiment name: 1 to 200 letters, digits, spaces or . : - / _", { field: "experiment" });
  if (name != null && !NAME.test(name)) throw badInput("run name: 1 to 200 letters, digits, spaces or . : - / _", { field: "name" });
}

export async function startRun(db: Db, viewer: Viewer, input: StartRunInput, requestId?: string): Promise<RunEntity> {
  await requireRole(db, viewer, input.projectId, "editor");
  checkRunNames(input.experiment, input.name);
  const tags = input.tags ?? {};
  if (Object.keys(tags).length > 100 || Object.entries(tags).some(([k, v]) => k.length > 250 || String(v).length > 5000)) {
    throw badInput("tags: at most 100, keys up to 250 and values up to 5000 characters", { field: "tags" });
  }
  return db.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO experiments (project_id, name) VALUES ($1, $2) ON CONFLICT (project_id, name) DO NOTHING`,
      [input.projectId, input.experiment],
    );
    const experiment = await tx.findOneByOrFail(ExperimentEntity, { projectId: input.projectId, name: input.experiment });
    if (input.parentRunId) {
      const parent = await tx.findOneBy(RunEntity, { id: input.parentRunId, projectId: input.projectId });
      if (!parent) throw notFound("run", input.parentRunId);
    }
    const now = new Date();
    const run = await tx.getRepository(RunEntity).save({
      projectId: input.projectId,
      experimentId: experiment.id,
      name: input.name ?? `run-${now.toISOString().replace(/[-:]/g, "").slice(0, 15)}`,
      status: "running",
      startedAt: now,
      heartbeatAt: now,
      tags,
      parentRunId: input.parentRunId ?? null,
      createdById: viewer.userId,
      finishedAt: null,
      statusReason: null,
      jobId: null,
    });
    await recordAudit(tx, { projectId: input.projectId, actorId: viewer.userId, action: "run.start", targetType: "run", targetId: run.id, requestId });
    return run;
  });
}

/** A run the viewer may act on with at least `role`, or NOT_FOUND. */
export async function accessRun(db: Db, viewer: Viewer, runId: string, role: "viewer" | "editor"): Promise<RunEntity> {
  return requireRowAccess(db, viewer, await db.getRepository(RunEntity).findOneBy({ id: runId }), "run", runId, role);
}

export function assertRunning(run: RunEntity): void {
  if (run.status !== "running") throw new OuroError("CONFLICT", `run ${run.id} is ${run.status}; it no longer accepts data`);
}

/**
 * Params are write-once, as in MLflow: logging the same value again is fine (retries), a
 * different value for a logged key is an error and nothing of the batch is written.
 */
export async function logParams(db: Db, viewer: Viewer, runId: string, params: { key: string; value: string }[]): Promise<ParamEntity[]> {
  const run = await accessRun(db, viewer, runId, "editor");
  assertRunning(run);
  if (params.length > 1000) throw badInput("at most 1000 params per call");
  const seen = new Map<string, string>();
  for (const p of params) {
    if (!NAME.test(p.key) || p.key.includes("..")) throw badInput(`param key "${p.key.slice(0, 50)}" is not allowed: 1 to 200 letters, digits, spaces or . : - / _, no '..'`, { field: "key" });
    if (p.value.length > MAX_PARAM_VALUE) throw badInput(`param ${p.key}: value longer than ${MAX_PARAM_VALUE} characters`);
    if (seen.has(p.key) && seen.get(p.key) !== p.value) throw badInput(`param ${p.key} given twice with different values`);
    seen.set(p.key, p.value);
  }
  return withKeyLock(db, runLockKey(runId), async (tx) => {
    const keys = [...seen.keys()];
    const existing = await tx.getRepository(ParamEntity).createQueryBuilder("p").where("p.run_id = :runId AND p.key = ANY(:keys)", { runId, keys }).getMany();
    for (const e of existing) {
      if (e.value !== seen.get(e.key)) throw new OuroError("CONFLICT", `param ${e.key} is already ${JSON.stringify(e.value.slice(0, 100))}; params cannot change`);
    }
    await tx.query(
      `INSERT INTO params (run_id, key, value) SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t(k, v) ON CONFLICT DO NOTHING`,
      [runId, keys, keys.map((k) => seen.get(k)!)],
    );
    await tx.query("UPDATE runs SET heartbeat_at = now() WHERE id = $1", [runId]);
    return tx.getRepository(ParamEntity).find({ where: { runId }, order: { key: "ASC" } });
  });
}

export async function heartbeat(db: Db, viewer: Viewer, runId: string): Promise<RunEntity> {
  const run = await accessRun(db, viewer, runId, "editor");
  assertRunning(run);
  await db.query("UPDATE runs SET heartbeat_at = now() WHERE id = $1", [runId]);
  return db.getRepository(RunEntity).findOneByOrFail({ id: runId });
}

/** Ends a run. Finishing an ended run with the same status is a no-op (safe to retry). */
export async function finishRun(db: Db, viewer: Viewer, runId: string, status: Exclude<RunStatus, "running">, requestId?: string): Promise<RunEntity> {
  const run = await accessRun(db, viewer, runId, "editor");
  return withKeyLock(db, runLockKey(runId), async (tx) => {
    const current = await tx.findOneByOrFail(RunEntity, { id: runId });
    if (current.status === status) return current;
    assertRunning(current);
    await tx.query("UPDATE runs SET status = $2, finished_at = now() WHERE id = $1", [runId, status]);
    await recordAudit(tx, { projectId: run.projectId, actorId: viewer.userId, action: `run.${status}`, targetType: "run", targetId: runId, requestId });
    return tx.findOneByOrFail(RunEntity, { id: runId });
  });
}

/** Marks runs without a sign of life for `timeoutSeconds` as failed. Safe to run anywhere, often. */
export async function reapSilentRuns(db: Db, timeoutSeconds: number): Promise<number> {
  return db.transaction(async (tx) => {
    const reaped = await sql<{ id: string; project_id: string }>(
      tx,
      `UPDATE runs SET status = 'failed', finished_at = now(),
         status_reason = 'no heartbeat or metrics for ' || $1 || ' seconds'
       WHERE status = 'running' AND heartbeat_at < now() - make_interval(secs => $1)
       RETURNING id, project_id`,
      [timeoutSeconds],
    );
    for (const r of reaped) {
      await recordAudit(tx, { projectId: r.project_id, actorId: null, action: "run.reaped", targetType: "run", targetId: r.id });
    }
    return reaped.length;
  });
}

/** Ends a run on behalf of Ouro itself (a job that drove it); no-op if it already ended. */
export async function endRunAsSystem(db: Db, runId: string, status: Exclude<RunStatus, "running">, reason: string | null): Promise<void> {
  await withKeyLock(db, runLockKey(runId), async (tx) => {
    const rows = await sql<{ project_id: string }>(
      tx,
      `UPDATE runs SET status = $2, status_reason = $3, finished_at = now() WHERE id = $1 AND status = 'running' RETURNING project_id`,
      [runId, status, reason?.slice(0, 2000) ?? null],
    );
    if (rows[0]) await recordAudit(tx, { projectId: rows[0].project_id, actorId: null, action: `run.${status}`, targetType: "run", targetId: runId });
  });
}

/** Records params for a run Ouro drives (values as text, write-once like logParams). */
export async function recordParamsAsSystem(db: Db, runId: string, params: Record<string, string>): Promise<void> {
  const keys = Object.keys(params).filter((k) => NAME.test(k)).slice(0, 1000);
  await db.query(
    `INSERT INTO params (run_id, key, value) SELECT $1, k, v FROM unnest($2::text[], $3::text[]) AS t(k, v) ON CONFLICT DO NOTHING`,
    [runId, keys, keys.map((k) => params[k].slice(0, MAX_PARAM_VALUE))],
  );
}

export async function listParams(db: Db, runId: string): Promise<ParamEntity[]> {
  return db.getRepository(ParamEntity).find({ where: { runId }, order: { key: "ASC" } });
}
