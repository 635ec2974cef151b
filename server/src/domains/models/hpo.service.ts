import type { Tx } from "../../platform/db";
import { badInput } from "../../platform/errors";
import { recordAudit } from "../audit/audit.service";
import { enqueueJob } from "../jobs/job.service";
import { JobEntity } from "../jobs/job.entity";
import { HYPERPARAMETER_SEARCH, type EarlyStopping, type HalvingSettings, type SearchPayload } from "./hpo.tasks";

export interface SearchSettings {
  maxConcurrent: number;
  metric: string;
  maximize: boolean;
  earlyStopping: EarlyStopping;
  /** Successive halving: keep the best 1/eta at each rung; the first rung is at minEpochs. */
  halving?: { eta?: number | null; minEpochs?: number | null } | null;
}

/** Checks a search's settings; the halving settings it will run with (null unless halving). */
export function checkSearchSettings(s: SearchSettings, maxEpochs: number | undefined, dimensions: string[] = []): HalvingSettings | null {
  if (!Number.isInteger(s.maxConcurrent) || s.maxConcurrent < 1 || s.maxConcurrent > 16) throw badInput("maxConcurrent: 1 to 16");
  if (!/^[\w.]{1,100}$/.test(s.metric)) throw badInput("metric: a per-epoch metric name such as val_loss");
  if (!["none", "median", "halving"].includes(s.earlyStopping)) throw badInput("earlyStopping: none, median or halving");
  if (s.earlyStopping !== "halving") return null;
  if (dimensions.includes("epochs")) throw badInput("successive halving sets each rung's epochs itself: remove epochs from the search space");
  const eta = s.halving?.eta ?? 3;
  const minEpochs = s.halving?.minEpochs ?? 1;
  if (!Number.isInteger(eta) || eta < 2 || eta > 10) throw badInput("halving.eta: an integer from 2 to 10");
  if (!Number.isInteger(minEpochs) || minEpochs < 1) throw badInput("halving.minEpochs: at least 1");
  const budget = maxEpochs ?? 100;
  if (minEpochs >= budget) throw badInput(`halving.minEpochs (${minEpochs}) must be below the epochs budget (${budget})`);
  return { eta, minEpochs, maxEpochs: budget };
}

export interface SearchRequest {
  projectId: string;
  experiment: string;
  runName: string | null;
  createdById: string | null;
  payload: Omit<SearchPayload, "parentRunId" | "experiment" | "createdById">;
  idempotencyKey: string | null;
  requestId?: string;
}

/**
 * Creates the search's parent run and its job in one transaction. The same idempotency key
 * returns the first search instead of starting a second one.
 */
export async function enqueueSearch(tx: Tx, r: SearchRequest): Promise<{ job: JobEntity; runId: string }> {
  if (r.idempotencyKey) {
    const [existing] = await tx.query(
      `SELECT j.id AS job_id, r.id AS run_id FROM jobs j JOIN runs r ON r.job_id = j.id WHERE j.project_id = $1 AND j.idempotency_key = $2`,
      [r.projectId, r.idempotencyKey],
    );
    if (existing) return { job: await tx.findOneByOrFail(JobEntity, { id: existing.job_id }), runId: existing.run_id };
  }
  await tx.query(`INSERT INTO experiments (project_id, name) VALUES ($1, $2) ON CONFLICT (project_id, name) DO NOTHING`, [r.projectId, r.experiment]);
  const [run] = await tx.query(
    `INSERT INTO runs (project_id, experiment_id, name, tags, created_by_id)
     SELECT $1, e.id, $3, $4, $5 FROM experiments e WHERE e.project_id = $1 AND e.name = $2 RETURNING id`,
    [r.projectId, r.experiment, r.runName ?? `search-${new Date().toISOString().slice(0, 19)}`, { kind: "search" }, r.createdById],
  );
  const payload: SearchPayload = { ...r.payload, parentRunId: run.id, experiment: r.experiment, createdById: r.createdById };
  const { job } = await enqueueJob(tx, {
    projectId: r.projectId,
    kind: HYPERPARAMETER_SEARCH,
    payload: payload as unknown as Record<string, unknown>,
    idempotencyKey: r.idempotencyKey,
    createdById: r.createdById,
    maxAttempts: 1,
  });
  await tx.query("UPDATE runs SET job_id = $2 WHERE id = $1", [run.id, job.id]);
  await recordAudit(tx, {
    projectId: r.projectId,
    actorId: r.createdById,
    action: "model.search",
    targetType: "run",
    targetId: run.id,
    data: { jobId: job.id, trials: r.payload.models.length, earlyStopping: r.payload.earlyStopping },
    requestId: r.requestId,
  });
  return { job, runId: run.id };
}
