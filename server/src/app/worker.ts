import { datasetTasks } from "../domains/datasets/dataset.tasks";
import { deploymentTasks } from "../domains/deployments/deployment.tasks";
import { startRolloutLoop } from "../domains/deployments/rollout";
import { stopServing } from "../domains/deployments/serving/registry";
import { featureTasks } from "../domains/features/feature-set.tasks";
import { eventTasks } from "../domains/events/events.tasks";
import { startEventStreams } from "../domains/events/nats.worker";
import { startEventRetention } from "../domains/events/retention";
import { JobRunner } from "../domains/jobs/job.runner";
import { labellingTasks } from "../domains/labelling/labelling.tasks";
import { searchTasks } from "../domains/models/hpo.tasks";
import { modelTasks } from "../domains/models/train.tasks";
import { startMonitorScheduler } from "../domains/monitors/monitor.scheduler";
import { monitorTasks } from "../domains/monitors/monitor.tasks";
import { startPipelineLoop } from "../domains/pipelines/pipeline.tasks";
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
    ...eventTasks(app.artifacts, app.config),
    ...modelTasks(app.artifacts, app.config),
    ...searchTasks(),
    ...deploymentTasks(app),
    ...monitorTasks(app.config, app.artifacts),
    ...labellingTasks(app.artifacts, app.config),
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
  // Pipeline runs advance between jobs, not inside one: see domains/pipelines/pipeline.tasks.ts.
  const pipelines = startPipelineLoop({ db: app.db, bus: app.bus, store: app.artifacts, config: app.config, log: app.log });
  // Monitor windows that are due become jobs (idempotent per window: every worker may do it).
  const stopMonitorScheduler = startMonitorScheduler(app.db, app.config, app.log);
  const stopRollouts = startRolloutLoop(app.db, app.log, app.config.serving.rolloutCheckMs);
  // Attached NATS JetStream sources: one consumer per source across workers (advisory locks).
  const eventStreams = startEventStreams(app);
  // Event history older than OURO_EVENTS_RETENTION_DAYS (and no longer needed by any window) is dropped by day.
  const eventRetention = startEventRetention(app);
  const reaperEvery = Math.max(1000, Math.min(60_000, (app.config.runTimeoutSeconds * 1000) / 4));
  const reaper = setInterval(() => {
    reapSilentRuns(app.db, app.config.runTimeoutSeconds).catch((err) => app.log.warn({ err: (err as Error).message }, "run reaper failed"));
  }, reaperEvery);
  return {
    runner,
    pipelines,
    async stop() {
      clearInterval(reaper);
      await eventStreams.stop();
      await eventRetention.stop();
      await stopRollouts();
      stopMonitorScheduler();
      await pipelines.stop();
      await runner.stop();
      await stopServing(app);
    },
  };
}
