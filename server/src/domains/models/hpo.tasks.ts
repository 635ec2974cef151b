import { setTimeout as sleep } from "node:timers/promises";
import { sql, type Db } from "../../platform/db";
import { JobCancelledError, type TaskContext, type TaskHandlers } from "../../platform/tasks";
import { cancelJob } from "../jobs/job.service";
import { appendMetrics } from "../runs/metric.service";
import { endRunAsSystem, recordParamsAsSystem } from "../runs/run.service";
import { enqueueTraining } from "./train.service";
import { flatten, type TrainPayload } from "./train.tasks";

export const HYPERPARAMETER_SEARCH = "models.search";
const POLL_MS = 300;

export type EarlyStopping = "median" | "halving" | "none";

export interface HalvingSettings {
  /** Keep the best 1/eta of the trials at each rung. */
  eta: number;
  /** Epochs of the first rung; each next rung has eta times more, up to maxEpochs. */
  minEpochs: number;
  maxEpochs: number;
}

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
  earlyStopping: EarlyStopping;
  halving?: HalvingSettings | null;
  maxAttempts: number;
}

interface TrialResult {
  index: number;
  runId: string;
  status: string;
  /** Best value of the metric over the trial's epochs (at the last rung it reached). */
  score: number | null;
  pruned: boolean;
  /** Successive halving: the last rung the trial trained in (0-based) and its epochs. */
  rung?: number;
  epochs?: number;
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

/** The epochs of each rung: minEpochs, minEpochs·eta, ... and the full budget last. */
export function halvingRungs(h: HalvingSettings): number[] {
  const rungs: number[] = [];
  for (let r = h.minEpochs; r < h.maxEpochs; r *= h.eta) rungs.push(r);
  rungs.push(h.maxEpochs);
  return rungs;
}

/** How many of `n` trials go on to the next rung: the best ceil(n/eta). */
export const survivorsOf = (n: number, eta: number) => Math.max(1, Math.ceil(n / eta));

interface BatchTrial {
  index: number;
  model: Record<string, unknown>;
  name: string;
  key: string;
  tags: Record<string, string>;
}

/**
 * Runs a search: each trial is an ordinary training job with a child run, at most
 * `maxConcurrent` at once (any worker may take them). Trials are enqueued with idempotency
 * keys, so a retried search re-attaches to its trials instead of starting them again.
 *
 * Early stopping:
 * - median: a running trial whose best-so-far is worse than the median of finished trials
 *   at the same epoch is cancelled.
 * - halving (successive halving): every trial first trains for minEpochs (rung 0); only the
 *   best ceil(n/eta) are trained again with eta times the epochs, and so on until the full
 *   budget. Each rung is a fresh child run with the same seed (a run cannot be resumed), so
 *   a rung's first epochs repeat the previous rung's; the budget is still about
 *   n·minEpochs per rung instead of n·maxEpochs. Pruning does not depend on timing.
 */
export function searchTasks(): TaskHandlers {
  const search = async (ctx: TaskContext<SearchPayload>) => {
    const p = ctx.payload;
    const better = (a: number, b: number) => (p.direction === "minimize" ? a < b : a > b);
    const running = new Map<string, { trial: BatchTrial; runId: string; jobId: string }>();
    const finishedCurves: number[][] = []; // best-so-far curves of completed trials (median stopping)
    let done = 0;
    const totalTrainings = p.earlyStopping === "halving" && p.halving ? estimateTrainings(p.models.length, p.halving) : p.models.length;

    /** Trains `trials` (concurrency-capped); their results in index order. */
    const runBatch = async (trials: BatchTrial[], useMedian: boolean): Promise<TrialResult[]> => {
      const pending = [...trials];
      const results: TrialResult[] = [];
      while (pending.length || running.size) {
        if (ctx.signal.aborted) throw new JobCancelledError();
        while (running.size < p.maxConcurrent && pending.length) {
          const trial = pending.shift()!;
          const { job, runId } = await ctx.db.transaction((tx) =>
            enqueueTraining(tx, {
              projectId: ctx.projectId,
              experiment: p.experiment,
              runName: trial.name,
              parentRunId: p.parentRunId,
              createdById: p.createdById,
              payload: { ...p.base, spec: { ...p.base.spec, model: trial.model as TrainPayload["spec"]["model"] } },
              maxAttempts: p.maxAttempts,
              idempotencyKey: trial.key,
              tags: trial.tags,
            }),
          );
          running.set(job.id, { trial, runId, jobId: job.id });
          // The sampled model now, not only when training ends: a trial stopped early keeps them too.
          await recordParamsAsSystem(ctx.db, runId, { ...flatten("model", trial.model, {}), ...trial.tags, search: p.parentRunId });
        }
        await sleep(POLL_MS);
        const states = await sql<{ id: string; status: string }>(ctx.db, "SELECT id, status FROM jobs WHERE id = ANY($1::uuid[])", [[...running.keys()]]);
        for (const s of states) {
          if (!["succeeded", "failed", "cancelled"].includes(s.status)) continue;
          const { trial, runId } = running.get(s.id)!;
          running.delete(s.id);
          const curve = await bestSoFar(ctx.db, runId, p.metric, p.direction);
          const score = curve.length ? curve[curve.length - 1] : null;
          results.push({ index: trial.index, runId, status: s.status, score, pruned: s.status === "cancelled" });
          if (s.status === "succeeded" && curve.length) finishedCurves.push(curve);
          done++;
          await ctx.progress(Math.min(1, done / totalTrainings), `${trial.name} ${s.status}${score !== null ? `: ${p.metric} ${score.toPrecision(4)}` : ""}`);
        }
        if (useMedian && finishedCurves.length >= 2) {
          for (const { trial, runId, jobId } of running.values()) {
            const curve = await bestSoFar(ctx.db, runId, p.metric, p.direction);
            const epoch = curve.length - 1;
            const peers = finishedCurves.map((c) => c[Math.min(epoch, c.length - 1)]).filter((v) => v !== undefined);
            if (epoch >= 1 && peers.length >= 2 && better(median(peers), curve[epoch])) {
              await cancelJob(ctx.db, jobId);
              await ctx.note(`${trial.name} stopped at epoch ${epoch + 1}: ${curve[epoch].toPrecision(4)} is worse than the median ${median(peers).toPrecision(4)}`);
            }
          }
        }
      }
      return results.sort((a, b) => a.index - b.index);
    };

    const plain = async (): Promise<TrialResult[]> => {
      const results = await runBatch(
        p.models.map((model, index) => ({ index, model, name: `trial-${index}`, key: `search:${p.parentRunId}:${index}`, tags: { trial: String(index) } })),
        p.earlyStopping === "median",
      );
      for (const r of results) if (r.score !== null) await appendMetrics(ctx.db, p.parentRunId, [{ key: `trial.${p.metric}`, value: r.score, step: r.index }]);
      return results;
    };

    const halving = async (h: HalvingSettings): Promise<TrialResult[]> => {
      const rungs = halvingRungs(h);
      const final = new Map<number, TrialResult>();
      let survivors = p.models.map((_, i) => i);
      for (let k = 0; k < rungs.length && survivors.length; k++) {
        // With one trial left, there is nothing to compare: give it the full budget.
        const last = k === rungs.length - 1 || survivors.length === 1;
        const epochs = last ? h.maxEpochs : rungs[k];
        const rung = last ? rungs.length - 1 : k;
        const results = await runBatch(
          survivors.map((index) => ({
            index,
            model: { ...p.models[index], epochs },
            name: `trial-${index}-rung-${rung}`,
            key: `search:${p.parentRunId}:${index}:rung-${rung}`,
            tags: { trial: String(index), rung: String(rung), epochs: String(epochs) },
          })),
          false,
        );
        for (const r of results) {
          final.set(r.index, { ...r, rung, epochs });
          if (r.score !== null) await appendMetrics(ctx.db, p.parentRunId, [{ key: `rung${rung}.${p.metric}`, value: r.score, step: r.index }]);
        }
        if (last) break;
        const ranked = results.filter((r) => r.status === "succeeded" && r.score !== null).sort((a, b) => (better(a.score!, b.score!) ? -1 : better(b.score!, a.score!) ? 1 : a.index - b.index));
        const keep = ranked.slice(0, survivorsOf(survivors.length, h.eta)).map((r) => r.index);
        for (const index of survivors.filter((i) => !keep.includes(i))) {
          const r = final.get(index)!;
          final.set(index, { ...r, pruned: true });
        }
        await ctx.note(`rung ${rung} (${epochs} epochs): kept trials ${keep.join(", ") || "none"} of ${survivors.length}`);
        survivors = keep.sort((a, b) => a - b);
      }
      const results = [...final.values()].sort((a, b) => a.index - b.index);
      // The best trial is chosen among those that got the full budget.
      for (const r of results) if (r.score !== null && !r.pruned) await appendMetrics(ctx.db, p.parentRunId, [{ key: `trial.${p.metric}`, value: r.score, step: r.index }]);
      return results;
    };

    try {
      await recordParamsAsSystem(ctx.db, p.parentRunId, {
        metric: p.metric,
        direction: p.direction,
        earlyStopping: p.earlyStopping,
        trials: String(p.models.length),
        maxConcurrent: String(p.maxConcurrent),
        ...(p.halving ? { "halving.eta": String(p.halving.eta), "halving.minEpochs": String(p.halving.minEpochs), "halving.maxEpochs": String(p.halving.maxEpochs) } : {}),
      });
      const results = p.earlyStopping === "halving" && p.halving ? await halving(p.halving) : await plain();
      const scored = results.filter((r) => r.score !== null && r.status === "succeeded" && !(p.earlyStopping === "halving" && r.pruned));
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
        bestModel: best ? (p.earlyStopping === "halving" && p.halving ? { ...p.models[best.index], epochs: p.halving.maxEpochs } : p.models[best.index]) : null,
        bestScore: best?.score ?? null,
        trials: results,
        ...(p.earlyStopping === "halving" && p.halving ? { rungs: halvingRungs(p.halving), pruned: results.filter((r) => r.pruned).length } : {}),
      };
    } catch (err) {
      for (const { jobId } of running.values()) await cancelJob(ctx.db, jobId).catch(() => undefined);
      const cancelled = err instanceof JobCancelledError || ctx.signal.aborted;
      await endRunAsSystem(ctx.db, p.parentRunId, cancelled ? "killed" : "failed", cancelled ? "search cancelled" : (err as Error).message);
      throw err;
    }
  };
  return { [HYPERPARAMETER_SEARCH]: search as TaskHandlers[string] };
}

/** Trainings a halving search will run at most (for progress). */
function estimateTrainings(n: number, h: HalvingSettings): number {
  let total = 0;
  let left = n;
  for (const _ of halvingRungs(h)) {
    total += left;
    if (left === 1) break;
    left = survivorsOf(left, h.eta);
  }
  return total;
}
