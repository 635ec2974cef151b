import { setTimeout as sleep } from "node:timers/promises";
import { sql, type Db } from "../../platform/db";
import { JobCancelledError, type TaskContext, type TaskHandlers } from "../../platform/tasks";
import { cancelJob } from "../jobs/job.service";
import { appendMetrics } from "../runs/metric.service";
import { endRunAsSystem, recordParamsAsSystem } from "../runs/run.service";
import { enqueueTraining } from "./train.service";
import type { TrainPayload } from "./train.tasks";

export const HYPERPARAMETER_SEARCH = "models.search";
const POLL_MS = 300;

export interface SearchPayload {
  parentRunId: string;
  experiment: string;
  createdById: string | null;
  models: Record<string, unknown>[];
  base: Omit<TrainPayload, "runId">;
  maxConcurrent: number;
  /** A per-epoch metric of the trials, e.g. val_loss or val_accuracy. */
  metric: string;
  direction: "minimize" | "maximize";
  earlyStopping: "median" | "none";
  maxAttempts: number;
}

interface Trial {
  index: number;
  runId: string;
  jobId: string;
}

interface TrialResult {
  index: number;
  runId: string;
  status: string;
  /** Best value of the metric over the trial's epochs. */
  score: number | null;
  pruned: boolean;
}

/** Best-so-far of `metric` at each epoch of a run: what median stopping compares. */
async function bestSoFar(db: Db, runId: string, metric: string, direction: SearchPayload["direction"]): Promise<number[]> {
  const rows = await sql<{ step: string; value: number }>(db, "SELECT step::text, value FROM metric_points WHERE run_id = $1 AND key = $2 ORDER BY metric_points.step", [runId, metric]);
  const out: number[] = [];
  let best = direction === "minimize" ? Infinity : -Infinity;
  for (const r of rows) {
    best = direction === "minimize" ? Math.min(best, r.value) : Math.max(best, r.value);
    out[Number(r.step) - 1] = best;
  }
  return out;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/**
 * Runs a search: each trial is an ordinary training job with a child run, at most
 * `maxConcurrent` at once (any worker may take them). With median stopping, a running trial
 * whose best-so-far is worse than the median of finished trials at the same epoch is
 * cancelled. Trials are enqueued with idempotency keys, so a retried search re-attaches to
 * its trials instead of starting them again.
 */
export function searchTasks(): TaskHandlers {
  const search = async (ctx: TaskContext<SearchPayload>) => {
    const p = ctx.payload;
    const better = (a: number, b: number) => (p.direction === "minimize" ? a < b : a > b);
    const pending = p.models.map((model, index) => ({ model, index }));
    const running = new Map<string, Trial>();
    const results: TrialResult[] = [];
    const finished: number[][] = []; // best-so-far curves of completed trials
    try {
      await recordParamsAsSystem(ctx.db, p.parentRunId, { metric: p.metric, direction: p.direction, earlyStopping: p.earlyStopping, trials: String(p.models.length), maxConcurrent: String(p.maxConcurrent) });
      while (pending.length || running.size) {
        if (ctx.signal.aborted) throw new JobCancelledError();
        while (running.size < p.maxConcurrent && pending.length) {
          const { model, index } = pending.shift()!;
          const { job, runId } = await ctx.db.transaction((tx) =>
            enqueueTraining(tx, {
              projectId: ctx.projectId,
              experiment: p.experiment,
              runName: `trial-${index}`,
              parentRunId: p.parentRunId,
              createdById: p.createdById,
              payload: { ...p.base, spec: { ...p.base.spec, model: model as TrainPayload["spec"]["model"] } },
              maxAttempts: p.maxAttempts,
              idempotencyKey: `search:${p.parentRunId}:${index}`,
              tags: { trial: String(index) },
            }),
          );
          running.set(job.id, { index, runId, jobId: job.id });
          await recordParamsAsSystem(ctx.db, runId, { trial: String(index), search: p.parentRunId });
        }
        await sleep(POLL_MS);
        const states = await sql<{ id: string; status: string }>(ctx.db, "SELECT id, status FROM jobs WHERE id = ANY($1::uuid[])", [[...running.keys()]]);
        for (const s of states) {
          if (!["succeeded", "failed", "cancelled"].includes(s.status)) continue;
          const trial = running.get(s.id)!;
          running.delete(s.id);
          const curve = await bestSoFar(ctx.db, trial.runId, p.metric, p.direction);
          const score = curve.length ? curve[curve.length - 1] : null;
          results.push({ index: trial.index, runId: trial.runId, status: s.status, score, pruned: s.status === "cancelled" });
          if (s.status === "succeeded" && curve.length) finished.push(curve);
          if (score !== null) await appendMetrics(ctx.db, p.parentRunId, [{ key: `trial.${p.metric}`, value: score, step: trial.index }]);
          await ctx.progress(results.length / p.models.length, `trial ${trial.index} ${s.status}${score !== null ? `: ${p.metric} ${score.toPrecision(4)}` : ""}`);
        }
        if (p.earlyStopping === "median" && finished.length >= 2) {
          for (const trial of running.values()) {
            const curve = await bestSoFar(ctx.db, trial.runId, p.metric, p.direction);
            const epoch = curve.length - 1;
            const peers = finished.map((c) => c[Math.min(epoch, c.length - 1)]).filter((v) => v !== undefined);
            if (epoch >= 1 && peers.length >= 2 && better(median(peers), curve[epoch])) {
              await cancelJob(ctx.db, trial.jobId);
              await ctx.note(`trial ${trial.index} stopped at epoch ${epoch + 1}: ${curve[epoch].toPrecision(4)} is worse than the median ${median(peers).toPrecision(4)}`);
            }
          }
        }
      }
      const scored = results.filter((r) => r.score !== null && r.status === "succeeded");
      const best = scored.reduce<TrialResult | null>((b, r) => (b === null || better(r.score!, b.score!) ? r : b), null);
      if (best) {
        await recordParamsAsSystem(ctx.db, p.parentRunId, { bestTrial: String(best.index), bestRunId: best.runId });
        await appendMetrics(ctx.db, p.parentRunId, [{ key: `best.${p.metric}`, value: best.score!, step: 0 }]);
      }
      await endRunAsSystem(ctx.db, p.parentRunId, "finished", null);
      return {
        parentRunId: p.parentRunId,
        bestRunId: best?.runId ?? null,
        bestTrial: best?.index ?? null,
        bestModel: best ? p.models[best.index] : null,
        bestScore: best?.score ?? null,
        trials: results.sort((a, b) => a.index - b.index),
      };
    } catch (err) {
      for (const trial of running.values()) await cancelJob(ctx.db, trial.jobId).catch(() => undefined);
      const cancelled = err instanceof JobCancelledError || ctx.signal.aborted;
      await endRunAsSystem(ctx.db, p.parentRunId, cancelled ? "killed" : "failed", cancelled ? "search cancelled" : (err as Error).message);
      throw err;
    }
  };
  return { [HYPERPARAMETER_SEARCH]: search as TaskHandlers[string] };
}
