import { setTimeout as sleep } from "node:timers/promises";
import type { ArtifactStore } from "../../platform/artifacts";
import { sql } from "../../platform/db";
import { throwIfAborted, type TaskContext, type TaskHandlers } from "../../platform/tasks";
import { saveArtifact } from "./artifact.service";
import { listParams } from "./run.service";
import { RunEntity } from "./run.entity";

export const EXPORT_RUN = "runs.export";
const CHUNK = 10_000;

export interface ExportRunPayload {
  runId: string;
  /** Points up to this cursor: a retried export writes the same bytes. */
  upTo: string;
}

/**
 * `runs.export`: the run, its params and every metric point as NDJSON, stored as one artifact.
 * Re-running it (after a crash) produces the same bytes, hence the same single artifact.
 */
export function runTasks(store: ArtifactStore, faultSlowTaskMs: number): TaskHandlers {
  const exportRun = async (ctx: TaskContext<ExportRunPayload>) => {
    const { db } = ctx;
    const { runId, upTo } = ctx.payload;
    const run = await db.getRepository(RunEntity).findOneByOrFail({ id: runId, projectId: ctx.projectId });
    const [{ total }] = await sql<{ total: number }>(db, "SELECT count(*)::int AS total FROM metric_points WHERE run_id = $1 AND seq <= $2", [runId, upTo]);
    const params = await listParams(db, runId);
    await ctx.progress(0, `exporting ${total} points`);
    let written = 0;
    async function* lines() {
      // Only what cannot change after the export was asked for: a retry writes the same bytes.
      yield JSON.stringify({ type: "run", id: run.id, name: run.name, startedAt: run.startedAt, upTo }) + "\n";
      for (const p of params) yield JSON.stringify({ type: "param", key: p.key, value: p.value }) + "\n";
      let cursor = "0";
      for (;;) {
        throwIfAborted(ctx.signal);
        const rows = await sql<{ seq: string; key: string; step: string; value: number; recorded_at: Date }>(
          db,
          `SELECT seq::text, key, step::text, value, recorded_at FROM metric_points
           WHERE run_id = $1 AND seq > $2 AND seq <= $3 ORDER BY metric_points.seq LIMIT $4`,
          [runId, cursor, upTo, CHUNK],
        );
        if (rows.length === 0) break;
        yield rows.map((r) => JSON.stringify({ type: "metric", key: r.key, step: Number(r.step), value: r.value, at: r.recorded_at }) + "\n").join("");
        cursor = rows[rows.length - 1].seq;
        written += rows.length;
        await ctx.progress(total ? written / total : 1);
        if (faultSlowTaskMs) await sleep(faultSlowTaskMs);
      }
    }
    const artifact = await saveArtifact(db, store, {
      projectId: ctx.projectId,
      runId,
      name: `${run.name}.ndjson`,
      kind: "run-export",
      contentType: "application/x-ndjson",
      content: lines(),
    });
    return { artifactId: artifact.id, sha256: artifact.sha256, points: written };
  };
  return { [EXPORT_RUN]: exportRun as TaskHandlers[string] };
}
