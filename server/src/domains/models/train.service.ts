import type { Tx } from "../../platform/db";
import { enqueueJob } from "../jobs/job.service";
import { JobEntity } from "../jobs/job.entity";
import { TRAIN_MODEL, type TrainPayload } from "./train.tasks";

export interface TrainingRequest {
  projectId: string;
  experiment: string;
  runName: string | null;
  parentRunId: string | null;
  createdById: string | null;
  payload: Omit<TrainPayload, "runId">;
  maxAttempts: number;
  idempotencyKey: string | null;
  tags?: Record<string, string>;
}

/**
 * Creates the training run and its job in one transaction (so a search that retries, with
 * the same idempotency key, gets the same run and job rather than a second trial).
 */
export async function enqueueTraining(tx: Tx, r: TrainingRequest): Promise<{ job: JobEntity; runId: string }> {
  if (r.idempotencyKey) {
    const [existing] = await tx.query(
      `SELECT j.id AS job_id, r.id AS run_id FROM jobs j JOIN runs r ON r.job_id = j.id WHERE j.project_id = $1 AND j.idempotency_key = $2`,
      [r.projectId, r.idempotencyKey],
    );
    if (existing) return { job: await tx.findOneByOrFail(JobEntity, { id: existing.job_id }), runId: existing.run_id };
  }
  await tx.query(`INSERT INTO experiments (project_id, name) VALUES ($1, $2) ON CONFLICT (project_id, name) DO NOTHING`, [r.projectId, r.experiment]);
  const [run] = await tx.query(
    `INSERT INTO runs (project_id, experiment_id, name, tags, parent_run_id, created_by_id)
     SELECT $1, e.id, coalesce($3, 'train-' || to_char(now(), 'YYYYMMDD"T"HH24MISS')), $4, $5, $6 FROM experiments e WHERE e.project_id = $1 AND e.name = $2
     RETURNING id`,
    [r.projectId, r.experiment, r.runName, { kind: "training", ...(r.tags ?? {}) }, r.parentRunId, r.createdById],
  );
  const { job } = await enqueueJob(tx, {
    projectId: r.projectId,
    kind: TRAIN_MODEL,
    payload: { runId: run.id, ...r.payload } as unknown as Record<string, unknown>,
    idempotencyKey: r.idempotencyKey,
    createdById: r.createdById,
    maxAttempts: r.maxAttempts,
  });
  await tx.query("UPDATE runs SET job_id = $2 WHERE id = $1", [run.id, job.id]);
  return { job, runId: run.id };
}
