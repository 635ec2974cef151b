import { Bus } from "../../platform/bus";
import { sql, type Db, type Tx } from "../../platform/db";
import { notFound } from "../../platform/errors";
import type { Feed } from "../../platform/live";
import { JobLogEntity } from "./job-log.entity";
import { JobEntity, type JobStatus } from "./job.entity";

export const jobTopic = (jobId: string) => `job:${jobId}`;
export const JOB_CANCEL_TOPIC = "job-cancel";
const FINAL: JobStatus[] = ["succeeded", "failed", "cancelled"];

export interface EnqueueInput {
  projectId: string;
  kind: string;
  payload?: Record<string, unknown>;
  idempotencyKey?: string | null;
  createdById?: string | null;
  maxAttempts: number;
}

/**
 * Creates the public job row and the queue entry in one transaction: either both exist or
 * neither. The same idempotency key in the same project returns the first job.
 */
export async function enqueueJob(tx: Tx, input: EnqueueInput): Promise<{ job: JobEntity; created: boolean }> {
  const inserted = await sql<{ id: string }>(
    tx,
    `INSERT INTO jobs (project_id, kind, payload, idempotency_key, created_by_id, max_attempts)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (project_id, idempotency_key) DO NOTHING
     RETURNING id`,
    [input.projectId, input.kind, input.payload ?? {}, input.idempotencyKey ?? null, input.createdById ?? null, input.maxAttempts],
  );
  if (inserted.length === 0) {
    const existing = await tx.findOneByOrFail(JobEntity, { projectId: input.projectId, idempotencyKey: input.idempotencyKey! });
    return { job: existing, created: false };
  }
  const id = inserted[0].id;
  const [{ queue_job_id }] = await sql<{ queue_job_id: string }>(
    tx,
    `SELECT (graphile_worker.add_job($1, json_build_object('jobId', $2::text), max_attempts => $3, job_key => $2::text)).id::text AS queue_job_id`,
    [input.kind, id, input.maxAttempts],
  );
  await tx.query("UPDATE jobs SET queue_job_id = $2 WHERE id = $1", [id, queue_job_id]);
  return { job: await tx.findOneByOrFail(JobEntity, { id }), created: true };
}

export async function getJob(db: Db | Tx, id: string): Promise<JobEntity | null> {
  return db.getRepository(JobEntity).findOneBy({ id });
}

export async function jobLogs(db: Db, jobId: string, limit: number): Promise<JobLogEntity[]> {
  const rows = await db.getRepository(JobLogEntity).find({ where: { jobId }, order: { seq: "DESC" }, take: limit });
  return rows.reverse();
}

/**
 * Cancels a queued or running job. A queued one never starts; a running one is told through
 * the bus and its handler sees its signal abort. Returns null if the job had already ended.
 */
export async function cancelJob(db: Db, id: string): Promise<JobEntity | null> {
  return db.transaction(async (tx) => {
    const rows = await sql(
      tx,
      `UPDATE jobs SET status = 'cancelled', finished_at = now(), updated_at = now(), revision = revision + 1
       WHERE id = $1 AND status IN ('queued', 'running') RETURNING id`,
      [id],
    );
    if (rows.length === 0) return null;
    await tx.query("SELECT graphile_worker.remove_job($1)", [id]);
    await tx.query("INSERT INTO job_logs (job_id, attempt, level, message) SELECT id, attempt, 'warn', 'cancelled' FROM jobs WHERE id = $1", [id]);
    await Bus.publish(tx, jobTopic(id));
    await Bus.publish(tx, JOB_CANCEL_TOPIC, { jobId: id });
    return tx.findOneByOrFail(JobEntity, { id });
  });
}

export function isFinal(status: JobStatus): boolean {
  return FINAL.includes(status);
}

export async function requireJob(db: Db, id: string): Promise<JobEntity> {
  const job = await getJob(db, id);
  if (!job) throw notFound("job", id);
  return job;
}

/** jobUpdated's feed: the job itself whenever its revision passes the cursor. */
export function jobFeed(db: Db, jobId: string): Feed<JobEntity> {
  return {
    topic: jobTopic(jobId),
    fetchAfter: async (cursor) => {
      const job = await getJob(db, jobId);
      return job && BigInt(job.revision) > cursor ? [job] : [];
    },
    cursorOf: (job) => BigInt(job.revision),
  };
}
