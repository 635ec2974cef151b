import { datasetTasks } from "../domains/datasets/dataset.tasks";
import { featureTasks } from "../domains/features/feature-set.tasks";
import { JobRunner } from "../domains/jobs/job.runner";
import { searchTasks } from "../domains/models/hpo.tasks";
import { modelTasks } from "../domains/models/train.tasks";
import { recipeTasks } from "../domains/recipes/recipe.tasks";
import { reapSilentRuns } from "../domains/runs/run.service";
import { runTasks } from "../domains/runs/run.tasks";
import type { Metrics } from "../platform/observability";
import type { Started } from "./services";

/** Every job kind Ouro knows, by domain. */
export function allTaskHandlers(app: Started) {
  return {
    ...runTasks(app.artifacts, app.config.worker.faultSlowTaskMs),
    ...datasetTasks(app.artifacts, app.config),
    ...recipeTasks(app.artifacts, app.config),
    ...featureTasks(app.artifacts, app.config),
    ...modelTasks(app.artifacts, app.config),
    ...searchTasks(),
  };
}

/**
 * A worker: runs jobs, and sweeps for runs that went silent. Sweeps are idempotent, so every
 * worker may do them; there is no leader to elect.
 */
export async function startWorker(app: Started, metrics: Metrics) {
  const runner = new JobRunner({
    db: app.db,
    bus: app.bus,
    databaseUrl: app.databaseUrl,
    log: app.log,
    handlers: allTaskHandlers(app),
    concurrency: app.config.worker.concurrency,
    leaseSeconds: app.config.worker.leaseSeconds,
    onJobStart: (kind, latencyMs) => {
      metrics.jobsStarted.inc({ kind });
      metrics.jobQueueLatency.observe({ kind }, Math.max(0, latencyMs) / 1000);
    },
    onJobEnd: (kind, outcome, seconds) => {
      metrics.jobsFinished.inc({ kind, outcome });
      metrics.jobDuration.observe({ kind, outcome }, seconds);
    },
  });
  await runner.start();
  const reaperEvery = Math.max(1000, Math.min(60_000, (app.config.runTimeoutSeconds * 1000) / 4));
  const reaper = setInterval(() => {
    reapSilentRuns(app.db, app.config.runTimeoutSeconds).catch((err) => app.log.warn({ err: (err as Error).message }, "run reaper failed"));
  }, reaperEvery);
  return {
    runner,
    async stop() {
      clearInterval(reaper);
      await runner.stop();
    },
  };
}
