import type { ArtifactStore } from "../../platform/artifacts";
import type { Bus } from "../../platform/bus";
import type { Config } from "../../platform/config";
import { sql, type Db } from "../../platform/db";
import type { Logger } from "../../platform/logger";
import { onVersionCreated } from "../datasets/dataset.service";
import { parseCron, dueMinutes } from "./cron";
import { PipelineEntity } from "./pipeline.entity";
import { abandonRun, advanceRun, PIPELINE_WAKE_TOPIC } from "./pipeline.orchestrator";
import { createRun, triggerPipelinesOnDatasetVersion } from "./pipeline.service";

/** How far back a tick looks for cron minutes it may have missed (a slow tick, a restart). */
const CRON_LOOKBACK_MS = 5 * 60_000;
const ACTIVE_BATCH = 100;
/** Passes of one run that may fail in a row (a lost connection, a full pool) before it is failed. */
const MAX_PASS_FAILURES = 30;

export interface PipelineLoopDeps {
  db: Db;
  bus: Bus;
  store: ArtifactStore;
  config: Config;
  log: Logger;
}

/**
 * Starts the cron runs due in (now - lookback, now]. Every worker does this; the run's
 * idempotency key (pipeline, trigger, scheduled minute) makes sure each minute starts one
 * run however many workers see it. Minutes before the trigger existed never fire.
 */
export async function enqueueDueCronRuns(db: Db, now: Date): Promise<number> {
  const rows = await sql<{ id: string }>(db, `SELECT id FROM pipelines WHERE triggers @> '[{"kind": "cron"}]'::jsonb`);
  let started = 0;
  for (const { id } of rows) {
    const p = await db.getRepository(PipelineEntity).findOneBy({ id });
    if (!p) continue;
    for (const [i, t] of p.triggers.entries()) {
      if (t.kind !== "cron") continue;
      const since = new Date(Math.max(now.getTime() - CRON_LOOKBACK_MS, p.updatedAt.getTime()));
      for (const minute of dueMinutes(parseCron(t.schedule), since, now, 10)) {
        const { created } = await db.transaction((tx) =>
          createRun(tx, p, {
            trigger: { kind: "cron", schedule: t.schedule, scheduledFor: minute.toISOString() },
            actorId: null,
            idempotencyKey: `cron:${i}:${t.schedule}:${minute.toISOString()}`,
          }),
        );
        if (created) started++;
      }
    }
  }
  return started;
}

/**
 * The worker side of pipelines: advances active runs and starts due cron runs on every tick
 * (or at once when a run is created), and starts runs for new dataset versions. Advancing
 * never waits for a step's job: a run takes no worker slot between its steps.
 */
export function startPipelineLoop(deps: PipelineLoopDeps): { stop(): Promise<void>; tick(): Promise<void> } {
  const { db, log } = deps;
  const removeHook = onVersionCreated((tx, version) => triggerPipelinesOnDatasetVersion(tx, version));
  let running: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  /** Consecutive failed passes per run, in this process. */
  const failures = new Map<string, number>();

  const pass = async () => {
    await enqueueDueCronRuns(db, new Date()).catch((err) => log.warn({ err: (err as Error).message }, "pipeline cron check failed"));
    // Only runs with something to do: new ones, ones with a step whose job ended, and ones
    // with no step running (steps to start, or a run to settle). A run waiting on a long
    // training job costs one cheap query per tick, not a pass.
    const active = await sql<{ id: string }>(
      db,
      `SELECT r.id FROM pipeline_runs r
       WHERE r.status IN ('queued', 'running') AND (
         r.status = 'queued'
         OR EXISTS (SELECT 1 FROM pipeline_run_steps s LEFT JOIN jobs j ON j.id = s.job_id
                    WHERE s.pipeline_run_id = r.id AND s.status = 'running' AND (j.id IS NULL OR j.status IN ('succeeded', 'failed', 'cancelled')))
         OR NOT EXISTS (SELECT 1 FROM pipeline_run_steps s WHERE s.pipeline_run_id = r.id AND s.status = 'running'))
       ORDER BY r.created_at LIMIT $1`,
      [ACTIVE_BATCH],
    );
    for (const { id } of active) {
      if (stopped) return;
      try {
        await advanceRun(deps, id);
        failures.delete(id);
      } catch (err) {
        const n = (failures.get(id) ?? 0) + 1;
        failures.set(id, n);
        log.warn({ err: (err as Error).message, pipelineRunId: id, failures: n }, "pipeline run pass failed; retried next tick");
        if (n >= MAX_PASS_FAILURES) {
          failures.delete(id);
          await abandonRun(db, id, `the run could not advance (${n} tries): ${(err as Error).message}`).catch(() => undefined);
        }
      }
    }
  };
  const tick = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      try {
        do {
          again = false;
          await pass();
        } while (again && !stopped);
      } catch (err) {
        log.warn({ err: (err as Error).message }, "pipeline loop failed");
      } finally {
        running = null;
      }
    })();
    return running;
  };
  const timer = setInterval(() => void tick(), deps.config.pipelineTickMs);
  const unsubscribe = deps.bus.subscribe(PIPELINE_WAKE_TOPIC, () => void tick());
  void tick();
  return {
    tick,
    async stop() {
      stopped = true;
      clearInterval(timer);
      unsubscribe();
      removeHook();
      await running;
    },
  };
}
