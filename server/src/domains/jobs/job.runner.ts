import { randomBytes } from "node:crypto";
import os from "node:os";
import { EventEmitter } from "node:events";
import { Logger as QueueLogger, run, type Runner, type Task, type WorkerEvents } from "graphile-worker";
import pg from "pg";
import { Bus } from "../../platform/bus";
import { sql, type Db } from "../../platform/db";
import type { Logger } from "../../platform/logger";
import { JobCancelledError, type TaskContext, type TaskHandlers } from "../../platform/tasks";
import { JOB_CANCEL_TOPIC, jobTopic } from "./job.service";

export interface JobRunnerOptions {
  db: Db;
  bus: Bus;
  databaseUrl: string;
  log: Logger;
  handlers: TaskHandlers;
  concurrency: number;
  leaseSeconds: number;
  onJobStart?: (kind: string, queueLatencyMs: number) => void;
  onJobEnd?: (kind: string, outcome: string, seconds: number) => void;
}

const PROGRESS_WRITE_INTERVAL_MS = 250;

/**
 * A worker process: takes jobs from the PostgreSQL queue and runs their handlers.
 *
 * The queue library runs jobs at least once. What it does not do quickly is notice a worker
 * that died: its locks would only expire after hours. So every worker process heartbeats a
 * row in worker_processes, and every worker sweeps for rows older than the lease, unlocks the
 * dead process's queue entries and puts its jobs back to `queued`. Writes from a try are
 * fenced by its attempt number, so a try that was given up on cannot overwrite a newer one.
 */
export class JobRunner {
  readonly processId = `${os.hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;
  private runner: Runner | undefined;
  /** The queue's connections: ours, so they are closed (and their errors heard) until the very end. */
  private queuePool: pg.Pool | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly queueWorkerIds = new Set<string>();
  private readonly running = new Map<string, AbortController>();
  private unsubscribeCancel: (() => void) | undefined;
  private stopped = false;

  constructor(private readonly o: JobRunnerOptions) {}

  async start(): Promise<void> {
    const { db, log } = this.o;
    await db.query(
      `INSERT INTO worker_processes (id, hostname, pid) VALUES ($1, $2, $3)`,
      [this.processId, os.hostname(), process.pid],
    );
    this.unsubscribeCancel = this.o.bus.subscribe(JOB_CANCEL_TOPIC, (msg) => {
      const jobId = (msg.data as { jobId?: string } | undefined)?.jobId;
      if (jobId) this.running.get(jobId)?.abort(new JobCancelledError());
    });
    const taskList: Record<string, Task> = {};
    for (const kind of Object.keys(this.o.handlers)) {
      taskList[kind] = (payload, helpers) =>
        this.runJob(kind, (payload as { jobId: string }).jobId, helpers.job.attempts, helpers.job.max_attempts, helpers.job.run_at);
    }
    // Jobs are locked in the queue's name of the pool (or worker) that took them; those are
    // the ids a sweeper must unlock if this process dies. Listen before the pool exists.
    const events: WorkerEvents = new EventEmitter();
    events.on("pool:create", ({ workerPool }) => this.queueWorkerIds.add(workerPool.id));
    events.on("worker:create", ({ worker }) => this.queueWorkerIds.add(worker.workerId));
    // Given its own pool, graphile-worker would end it without waiting and drop its error
    // listener first; a database stopping at that moment then crashed the process.
    this.queuePool = new pg.Pool({ connectionString: this.o.databaseUrl, max: Math.max(10, this.o.concurrency + 2) }); // graphile-worker's own default is 10
    const heard = (err: Error) => log.debug({ err: err.message }, "job queue connection error");
    this.queuePool.on("error", heard);
    this.queuePool.on("connect", (client) => client.on("error", heard));
    try {
      this.runner = await run({
        pgPool: this.queuePool,
        concurrency: this.o.concurrency,
        taskList,
        noHandleSignals: true,
        pollInterval: 1000,
        logger: queueLogger(log),
        events,
      });
    } catch (err) {
      await this.queuePool.end().catch(() => undefined);
      throw err;
    }
    const interval = Math.max(500, (this.o.leaseSeconds * 1000) / 4);
    this.heartbeat = setInterval(() => void this.tick(), interval);
    await this.beat();
    log.info({ worker: this.processId, kinds: Object.keys(taskList) }, "worker started");
  }

  /**
   * Stops taking jobs and waits for the running ones to finish (cancellations still reach
   * them meanwhile). Heartbeats go on until then, so a long drain is not mistaken for death.
   */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    try {
      await this.runner?.stop();
    } finally {
      if (this.heartbeat) clearInterval(this.heartbeat);
      this.unsubscribeCancel?.();
      await this.o.db.query("DELETE FROM worker_processes WHERE id = $1", [this.processId]).catch(() => undefined);
      await this.queuePool?.end().catch(() => undefined);
    }
  }

  private async tick(): Promise<void> {
    try {
      await this.beat();
      await this.sweepDeadWorkers();
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, "worker heartbeat failed");
    }
  }

  private async beat(): Promise<void> {
    await this.o.db.query(
      `UPDATE worker_processes SET heartbeat_at = now(), queue_worker_ids = $2 WHERE id = $1`,
      [this.processId, [...this.queueWorkerIds]],
    );
  }

  async sweepDeadWorkers(): Promise<number> {
    const { db, log, leaseSeconds } = this.o;
    const dead = await sql<{ id: string; queue_worker_ids: string[] }>(
      db,
      `SELECT id, queue_worker_ids FROM worker_processes
       WHERE heartbeat_at < now() - make_interval(secs => $1) AND id <> $2`,
      [leaseSeconds, this.processId],
    );
    for (const w of dead) {
      await db.transaction(async (tx) => {
        const gone = await sql(tx, `DELETE FROM worker_processes WHERE id = $1 RETURNING id`, [w.id]);
        if (gone.length === 0) return; // another sweeper got there first
        await tx.query(`SELECT graphile_worker.force_unlock_workers($1::text[])`, [w.queue_worker_ids]);
        // A job whose queue entry has no tries left will never be picked again: fail it now.
        const requeued = await sql<{ id: string; out_of_tries: boolean }>(
          tx,
          `WITH lost AS (
             SELECT j.id, (q.id IS NULL OR q.attempts >= q.max_attempts) AS out_of_tries
             FROM jobs j LEFT JOIN graphile_worker._private_jobs q ON q.key = j.id::text
             WHERE j.worker_id = $1 AND j.status = 'running')
           UPDATE jobs j SET
             status = CASE WHEN lost.out_of_tries THEN 'failed' ELSE 'queued' END,
             finished_at = CASE WHEN lost.out_of_tries THEN now() END,
             error = 'worker ' || $1 || ' stopped responding',
             worker_id = NULL, revision = j.revision + 1, updated_at = now()
           FROM lost WHERE j.id = lost.id
           RETURNING j.id, lost.out_of_tries`,
          [w.id],
        );
        for (const job of requeued) {
          await tx.query(
            `INSERT INTO job_logs (job_id, attempt, level, message) SELECT id, attempt, 'warn', $2 FROM jobs WHERE id = $1`,
            [job.id, job.out_of_tries ? "worker lost on the last try; job failed" : "worker lost; job returned to the queue"],
          );
          await Bus.publish(tx, jobTopic(job.id));
        }
        log.warn({ deadWorker: w.id, jobs: requeued.length }, "swept dead worker");
      });
    }
    return dead.length;
  }

  private async runJob(kind: string, jobId: string, queueAttempts: number, maxAttempts: number, runAt: Date): Promise<void> {
    const { db, log } = this.o;
    const claimed = await sql<{ attempt: number; project_id: string; payload: Record<string, unknown> }>(
      db,
      `UPDATE jobs SET status = 'running', attempt = attempt + 1, worker_id = $2, error = NULL,
         started_at = coalesce(started_at, now()), updated_at = now(), revision = revision + 1
       WHERE id = $1 AND status IN ('queued', 'running')
       RETURNING attempt, project_id, payload`,
      [jobId, this.processId],
    );
    if (claimed.length === 0) return; // cancelled or already finished: nothing to do
    const { attempt, project_id: projectId, payload } = claimed[0];
    this.o.onJobStart?.(kind, Date.now() - runAt.getTime());
    await Bus.publish(db, jobTopic(jobId));
    const controller = new AbortController();
    this.running.set(jobId, controller);
    const started = Date.now();
    const jobLog = log.child({ jobId, kind, attempt });
    let lastProgressWrite = 0;

    const fenced = async (statement: string, params: unknown[]): Promise<boolean> => {
      const res = await sql(db, `${statement} AND attempt = ${attempt} AND status = 'running' RETURNING id`, params);
      const ok = res.length > 0;
      if (ok) await Bus.publish(db, jobTopic(jobId));
      return ok;
    };
    const note: TaskContext["note"] = async (message, level = "info") => {
      await db.query(`INSERT INTO job_logs (job_id, attempt, level, message) VALUES ($1, $2, $3, $4)`, [jobId, attempt, level, message.slice(0, 2000)]);
      await Bus.publish(db, jobTopic(jobId));
    };
    const ctx: TaskContext = {
      jobId,
      projectId,
      attempt,
      payload,
      signal: controller.signal,
      db,
      log: jobLog,
      note,
      progress: async (fraction, message) => {
        const now = Date.now();
        if (message) await note(message);
        if (now - lastProgressWrite < PROGRESS_WRITE_INTERVAL_MS && fraction < 1) return;
        lastProgressWrite = now;
        const p = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
        await fenced(`UPDATE jobs SET progress = $2, updated_at = now(), revision = revision + 1 WHERE id = $1`, [jobId, p]);
      },
    };

    try {
      const result = (await this.o.handlers[kind](ctx as never)) ?? {};
      const ok = await fenced(
        `UPDATE jobs SET status = 'succeeded', progress = 1, result = $2, finished_at = now(), worker_id = NULL,
           updated_at = now(), revision = revision + 1 WHERE id = $1`,
        [jobId, result],
      );
      this.o.onJobEnd?.(kind, ok ? "succeeded" : "stale", (Date.now() - started) / 1000);
      if (!ok && !controller.signal.aborted) {
        // Handed to a newer try meanwhile: report failure so the queue leaves that try's entry
        // alone (completing would delete it; failing only touches entries this worker holds).
        jobLog.warn("job finished after it was handed to another worker; result dropped");
        throw new StaleAttemptError();
      }
    } catch (err) {
      if (err instanceof StaleAttemptError) throw err;
      const cancelled = controller.signal.aborted && controller.signal.reason instanceof JobCancelledError;
      if (cancelled) {
        this.o.onJobEnd?.(kind, "cancelled", (Date.now() - started) / 1000);
        return; // the row already says cancelled; the queue entry completes
      }
      const message = err instanceof Error ? err.message : String(err);
      const final = queueAttempts >= maxAttempts;
      await note(`try ${attempt} failed: ${message}`, "error");
      await fenced(
        `UPDATE jobs SET status = $2, error = $3, worker_id = NULL, updated_at = now(), revision = revision + 1,
           finished_at = CASE WHEN $2 = 'failed' THEN now() END WHERE id = $1`,
        [jobId, final ? "failed" : "queued", message.slice(0, 2000)],
      );
      this.o.onJobEnd?.(kind, final ? "failed" : "retrying", (Date.now() - started) / 1000);
      throw err; // the queue schedules the retry with exponential backoff
    } finally {
      this.running.delete(jobId);
    }
  }
}

class StaleAttemptError extends Error {
  constructor() {
    super("stale attempt");
  }
}

function queueLogger(log: Logger): QueueLogger {
  const child = log.child({ component: "queue" });
  return new QueueLogger(() => (level, message, meta) => {
    const method = level === "error" ? "error" : level === "warning" ? "warn" : "debug";
    child[method]({ meta }, message);
  });
}
