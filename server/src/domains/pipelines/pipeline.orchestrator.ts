import { createHash } from "node:crypto";
import type { ArtifactStore } from "../../platform/artifacts";
import type { Viewer } from "../../platform/auth";
import { Bus } from "../../platform/bus";
import type { Config } from "../../platform/config";
import { sql, type Db, type Tx } from "../../platform/db";
import { fromPgError, OuroError } from "../../platform/errors";
import { cancelJob } from "../jobs/job.service";
import { PipelineRunEntity, PipelineRunStepEntity } from "./pipeline-run.entity";
import { canonicalJson, resolveRefs, validateSpec, type StepKind } from "./pipeline.spec";
import { cacheable, outputsOf, startStep, stillValid } from "./pipeline.steps";

export const pipelineRunTopic = (runId: string) => `pipeline-run:${runId}`;
export const pipelineTopic = (pipelineId: string) => `pipeline:${pipelineId}`;
/** Announced when a run is created, so a worker's loop looks at once instead of at its next tick. */
export const PIPELINE_WAKE_TOPIC = "pipelines-wake";

export interface OrchestratorDeps {
  db: Db;
  store: ArtifactStore;
  config: Config;
}

/**
 * Marks a run changed: a new cursor for pipelineRunUpdated, announced on commit. Writers of
 * one pipeline take turns here (taken last in the transaction, so held briefly), which keeps
 * the cursor growing in commit order within the pipeline.
 */
export async function touchRun(tx: Tx, run: { id: string; pipelineId: string }): Promise<void> {
  await tx.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [`pipeline:${run.pipelineId}`]);
  await tx.query("UPDATE pipeline_runs SET seq = nextval('pipeline_run_seq'), updated_at = now() WHERE id = $1", [run.id]);
  await Bus.publish(tx, pipelineRunTopic(run.id));
  await Bus.publish(tx, pipelineTopic(run.pipelineId));
}

const FINAL_JOB = ["succeeded", "failed", "cancelled"];
const DONE_STEP = ["succeeded", "failed", "skipped", "cancelled"];

async function runViewer(db: Db, run: PipelineRunEntity): Promise<Viewer> {
  const [user] = run.createdById ? await sql<{ is_admin: boolean }>(db, "SELECT is_admin FROM users WHERE id = $1", [run.createdById]) : [];
  if (!user) throw new OuroError("CONFLICT", "the pipeline's owner no longer exists; update the pipeline to run it as someone else");
  return { userId: run.createdById!, tokenId: `pipeline-run:${run.id}`, isAdmin: user.is_admin };
}

/**
 * Moves a run forward as far as it can go now, in one transaction: collects finished step
 * jobs, starts every step whose dependencies succeeded (from the cache when an identical
 * step succeeded before), and settles the run. Nothing blocks waiting: a step's job is
 * enqueued and a later pass collects it. The run row is locked with SKIP LOCKED, so workers
 * never advance the same run twice at once; all state is in the database, so a worker that
 * dies mid-pass loses nothing (the transaction rolls back and the next pass redoes it;
 * step jobs carry idempotency keys, so they are not enqueued twice).
 */
export async function advanceRun(deps: OrchestratorDeps, runId: string): Promise<boolean> {
  const { db } = deps;
  const afterCommit: string[] = [];
  const changed = await db.transaction(async (tx) => {
    const locked = await sql(tx, "SELECT id FROM pipeline_runs WHERE id = $1 AND status IN ('queued', 'running') FOR UPDATE SKIP LOCKED", [runId]);
    if (locked.length === 0) return false;
    const run = await tx.findOneByOrFail(PipelineRunEntity, { id: runId });
    const rows = await tx.find(PipelineRunStepEntity, { where: { pipelineRunId: runId }, order: { position: "ASC" } });
    const byId = new Map(rows.map((r) => [r.stepId, r]));
    let dirty = false;
    const save = async (step: PipelineRunStepEntity, patch: Partial<PipelineRunStepEntity>) => {
      Object.assign(step, patch);
      await tx.update(PipelineRunStepEntity, { id: step.id }, patch as never);
      dirty = true;
    };
    // The run row itself is written only at the end of the pass: until then a request
    // inserting a run with the same idempotency key does not have to wait for this one.
    const starting = run.status === "queued";
    const { spec, deps: needs, order } = validateSpec(run.spec);
    const specById = new Map(spec.steps.map((s) => [s.id, s]));

    // 1. Collect jobs that ended.
    for (const lost of rows.filter((r) => r.status === "running" && !r.jobId)) await save(lost, { status: "failed", error: "the step's job no longer exists", finishedAt: new Date() });
    const waiting = rows.filter((r) => r.status === "running" && r.jobId);
    if (waiting.length) {
      const jobs = await sql<{ id: string; status: string; result: Record<string, unknown> | null; error: string | null }>(tx, "SELECT id, status, result, error FROM jobs WHERE id = ANY($1::uuid[])", [waiting.map((w) => w.jobId)]);
      const jobById = new Map(jobs.map((j) => [j.id, j]));
      for (const step of waiting) {
        const job = jobById.get(step.jobId!);
        if (!job) await save(step, { status: "failed", error: "the step's job no longer exists", finishedAt: new Date() });
        else if (job.status === "succeeded") await save(step, { status: "succeeded", outputs: outputsOf(step.kind as StepKind, step.outputs ?? {}, job.result ?? {}), finishedAt: new Date() });
        else if (FINAL_JOB.includes(job.status)) await save(step, { status: "failed", error: job.error ?? `job ${job.status}`, finishedAt: new Date() });
      }
    }

    // 2. Start what is ready, repeating while steps finish at once (cache hits, register, gate).
    let viewer: Viewer | null = null;
    const scope = (): Record<string, unknown> => {
      const s: Record<string, unknown> = { params: { ...(spec.params ?? {}), ...run.params } };
      for (const r of rows) if (r.status === "succeeded") s[r.stepId] = r.outputs ?? {};
      return s;
    };
    for (let progressed = true; progressed && !rows.some((r) => r.status === "failed"); ) {
      progressed = false;
      for (const id of order) {
        const step = byId.get(id)!;
        if (step.status !== "pending") continue;
        const depRows = [...needs.get(id)!].map((d) => byId.get(d)!);
        if (depRows.some((d) => d.status !== "succeeded")) continue;
        const kind = step.kind as StepKind;
        const now = new Date();
        let inputs: Record<string, unknown>;
        try {
          inputs = resolveRefs(specById.get(id)!.params, scope(), `steps.${id}.params`) as Record<string, unknown>;
        } catch (err) {
          await save(step, { status: "failed", error: (err as Error).message, startedAt: now, finishedAt: now });
          break;
        }
        const inputHash = createHash("sha256").update(canonicalJson({ kind, inputs })).digest("hex");
        if (!run.force && cacheable(kind, inputs)) {
          const [hit] = await sql<{ outputs: Record<string, unknown>; id: string }>(
            tx,
            `SELECT s.outputs, s.id FROM pipeline_run_steps s
             WHERE s.project_id = $1 AND s.kind = $2 AND s.input_hash = $3 AND s.status = 'succeeded' AND s.pipeline_run_id <> $4
             ORDER BY s.finished_at DESC LIMIT 1`,
            [run.projectId, kind, inputHash, run.id],
          );
          if (hit && (await stillValid(db, kind, hit.outputs))) {
            await save(step, { status: "succeeded", inputs, inputHash, outputs: hit.outputs, cacheHit: true, startedAt: now, finishedAt: now });
            progressed = true;
            continue;
          }
        }
        try {
          viewer ??= await runViewer(db, run);
        } catch (err) {
          await save(step, { status: "failed", inputs, inputHash, error: (err as Error).message, startedAt: now, finishedAt: now });
          break;
        }
        await tx.query("SAVEPOINT pipeline_step");
        try {
          const started = await startStep({ ...deps, tx, viewer, projectId: run.projectId, pipelineRunId: run.id, stepId: id }, kind, inputs);
          await tx.query("RELEASE SAVEPOINT pipeline_step");
          if ("job" in started) await save(step, { status: "running", inputs, inputHash, jobId: started.job, outputs: started.partial, startedAt: now });
          else if ("failed" in started) await save(step, { status: "failed", inputs, inputHash, outputs: started.outputs ?? null, error: started.failed, startedAt: now, finishedAt: new Date() });
          else {
            await save(step, { status: "succeeded", inputs, inputHash, outputs: started.outputs, startedAt: now, finishedAt: new Date() });
            progressed = true;
          }
        } catch (err) {
          // A step that cannot start (a missing column, another project's id, a malformed id)
          // fails, and whatever it had written rolls back with the savepoint. Anything else
          // (a lost connection, a full pool) is not the step's fault: the pass is retried.
          const known = err instanceof OuroError ? err : fromPgError(err);
          if (!known) throw err;
          await tx.query("ROLLBACK TO SAVEPOINT pipeline_step");
          await save(step, { status: "failed", inputs, inputHash, error: known.message, startedAt: now, finishedAt: new Date() });
        }
      }
    }

    // 3. Settle the run.
    const failed = rows.find((r) => r.status === "failed");
    if (failed) {
      for (const r of rows) {
        if (r.status === "running") {
          if (r.jobId) afterCommit.push(r.jobId);
          await save(r, { status: "cancelled", error: `stopped: step ${failed.stepId} failed`, finishedAt: new Date() });
        } else if (r.status === "pending") await save(r, { status: "skipped" });
      }
      await tx.update(PipelineRunEntity, { id: run.id }, { status: "failed", error: `step ${failed.stepId} (${failed.kind}) failed: ${failed.error ?? "unknown error"}`.slice(0, 4000), finishedAt: new Date() });
      dirty = true;
    } else if (rows.every((r) => DONE_STEP.includes(r.status))) {
      await tx.update(PipelineRunEntity, { id: run.id }, { status: "succeeded", finishedAt: new Date() });
      dirty = true;
    }
    if (starting) {
      await tx.query("UPDATE pipeline_runs SET status = CASE WHEN status = 'queued' THEN 'running' ELSE status END, started_at = now() WHERE id = $1", [run.id]);
      dirty = true;
    }
    if (dirty) await touchRun(tx, run);
    return dirty;
  });
  for (const jobId of afterCommit) await cancelJob(db, jobId).catch(() => undefined);
  return changed;
}

/**
 * Gives up on a run whose passes keep failing for reasons that are not a step's input (the
 * loop calls this after many failures in a row): the run fails with the last error, its
 * running step jobs are cancelled and its pending steps skipped.
 */
export async function abandonRun(db: Db, runId: string, error: string): Promise<void> {
  const jobs: string[] = [];
  await db.transaction(async (tx) => {
    const locked = await sql(tx, "SELECT id FROM pipeline_runs WHERE id = $1 AND status IN ('queued', 'running') FOR UPDATE", [runId]);
    if (locked.length === 0) return;
    const run = await tx.findOneByOrFail(PipelineRunEntity, { id: runId });
    for (const s of await tx.findBy(PipelineRunStepEntity, { pipelineRunId: runId })) {
      if (s.status === "running") {
        if (s.jobId) jobs.push(s.jobId);
        await tx.update(PipelineRunStepEntity, { id: s.id }, { status: "cancelled", finishedAt: new Date() });
      } else if (s.status === "pending") await tx.update(PipelineRunStepEntity, { id: s.id }, { status: "skipped" });
    }
    await tx.update(PipelineRunEntity, { id: runId }, { status: "failed", error: error.slice(0, 4000), finishedAt: new Date() });
    await touchRun(tx, run);
  });
  for (const jobId of jobs) await cancelJob(db, jobId).catch(() => undefined);
}
