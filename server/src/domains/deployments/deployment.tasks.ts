import { createWriteStream } from "node:fs";
import { once } from "node:events";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import pl from "nodejs-polars";
import type { AppServices } from "../../platform/graphql/context";
import { OuroError } from "../../platform/errors";
import { JobCancelledError } from "../../platform/tasks";
import { runInSubprocess } from "../../platform/subprocess";
import type { TaskContext, TaskHandlers } from "../../platform/tasks";
import { withTempDir } from "../../platform/tmp";
import { DatasetVersionEntity } from "../datasets/dataset-version.entity";
import { storeParquetVersion, versionArtifact } from "../datasets/dataset.service";
import type { Converted } from "../datasets/ingest.work";
import { previewParquet } from "../datasets/preview";
import type { BatchPredictInput } from "./batch.work";
import { DeploymentEntity } from "./deployment.entity";
import { BATCH_PREDICT, EXPORT_PREDICTIONS, logLabels, SIMULATE, type BatchPredictPayload, type ExportPredictionsPayload, type SimulatePayload } from "./deployment.service";
import { servingFor } from "./serving/registry";
import { modelForScoring } from "./serving/servable";
import { driftRow, maybeFlip, seeded } from "./simulate";


const WORK = path.join(__dirname, "batch.work.ts");
const INGEST_WORK = path.join(__dirname, "..", "datasets", "ingest.work.ts");
/** Most rows one export reads from the log (newest first). */
const MAX_EXPORT_ROWS = 1_000_000;


export function deploymentTasks(app: AppServices): TaskHandlers {
  const { artifacts: store, config } = app;
  const batchPredict = async (ctx: TaskContext<BatchPredictPayload>) => {
    const { modelVersionId, versionId, outputDatasetId } = ctx.payload;
    const input = await ctx.db.getRepository(DatasetVersionEntity).findOneByOrFail({ id: versionId, projectId: ctx.projectId });
    const { content, fitted } = await modelForScoring(ctx.db, store, modelVersionId);
    const file = await store.localPath((await versionArtifact(ctx.db, input)).sha256);
    return withTempDir(config.dataDir, "batch-predict-", async (dir) => {
      const out = path.join(dir, "out.parquet");
      await ctx.progress(0.05, `scoring ${input.rowCount} rows`);
      const converted = await runInSubprocess<BatchPredictInput, Converted & { keptInputColumns: boolean }>(WORK, "batchPredictFile", { file, saved: content.saved as BatchPredictInput["saved"], fitted, out }, {
        signal: ctx.signal,
        onProgress: (f, message) => void ctx.progress(0.05 + 0.85 * f, message),
      });
      const { version } = await storeParquetVersion(ctx.db, store, out, {
        projectId: ctx.projectId,
        datasetId: outputDatasetId,
        schema: converted.schema,
        rowCount: converted.rowCount,
        source: { kind: "batchPredict", modelVersionId, inputVersionId: input.id, keptInputColumns: converted.keptInputColumns },
        parentVersionIds: [input.id],
        recipeId: content.recipeId ?? null,
      });
      return { versionId: version.id, rowCount: converted.rowCount, modelVersionId };
    });
  };
  /**
   * Replays a dataset version against an endpoint through this process's serving engine (the
   * same code path as the HTTP endpoint), at `rate` rows/s, drifting rows and sending labels
   * back after a delay. A request the endpoint refuses is counted, not fatal.
   */
  const simulate = async (ctx: TaskContext<SimulatePayload>) => {
    const { deploymentId, versionId, rows: total, spec } = ctx.payload;
    await ctx.db.getRepository(DeploymentEntity).findOneByOrFail({ id: deploymentId, projectId: ctx.projectId });
    const version = await ctx.db.getRepository(DatasetVersionEntity).findOneByOrFail({ id: versionId, projectId: ctx.projectId });
    const file = await store.localPath((await versionArtifact(ctx.db, version)).sha256);
    const available = Number(version.rowCount);
    const random = seeded(spec.seed);
    const serving = servingFor(app);
    // Flipped labels take another class of the whole column, not only of the rows seen so far.
    const classes = spec.labelColumn && spec.drift.flipLabels ? (pl.scanParquet(file).select(pl.col(spec.labelColumn).unique()).collectSync().getColumn(spec.labelColumn).toArray() as unknown[]).filter((c) => c !== null) : [];
    const pending: { due: number; requestId: string; label: unknown }[] = [];
    const counts = { sent: 0, predicted: 0, refused: 0, labelled: 0 };
    const sendLabels = async (force: boolean) => {
      const now = Date.now();
      const due = pending.filter((p) => force || p.due <= now);
      if (!due.length) return;
      pending.splice(0, due.length);
      const d = await ctx.db.getRepository(DeploymentEntity).findOneByOrFail({ id: deploymentId });
      for (let i = 0; i < due.length; i += 5000) counts.labelled += await logLabels(ctx.db, d, due.slice(i, i + 5000).map(({ requestId, label }) => ({ requestId, label })));
    };
    const started = Date.now();
    let offset = 0;
    let buffer: Record<string, unknown>[] = [];
    let lastReport = 0;
    while (counts.sent < total) {
      if (ctx.signal.aborted) throw new JobCancelledError();
      if (buffer.length < spec.batchSize) {
        buffer = buffer.concat(previewParquet(file, offset % available, 500).rows);
        offset += 500;
      }
      const batch = buffer.splice(0, Math.min(spec.batchSize, total - counts.sent));
      const labels = batch.map((r) => (spec.labelColumn ? r[spec.labelColumn] : undefined));
      const requestRows = batch.map((r) => {
        const { [spec.labelColumn ?? ""]: _label, ...features } = r;
        return driftRow(spec.labelColumn ? features : r, spec.drift, random);
      });
      counts.sent += batch.length;
      try {
        const answer = await serving.predict(deploymentId, { rows: requestRows });
        counts.predicted += batch.length;
        answer.predictions.forEach((p, i) => {
          if (labels[i] === undefined || labels[i] === null) return;
          pending.push({ due: Date.now() + spec.labelDelayMs, requestId: p.id, label: maybeFlip(labels[i], classes, spec.drift.flipLabels ?? 0, random) });
        });
      } catch {
        counts.refused += batch.length;
      }
      await sendLabels(false);
      if (Date.now() - lastReport > 500) {
        lastReport = Date.now();
        await ctx.progress(counts.sent / total, `${counts.sent} of ${total} rows sent, ${counts.refused} refused, ${counts.labelled} labelled`);
      }
      // Hold the rate: the next batch leaves when the schedule says so.
      const wait = started + (counts.sent / spec.rate) * 1000 - Date.now();
      if (wait > 0) await sleep(wait, undefined, { signal: ctx.signal }).catch(() => undefined);
    }
    while (pending.length && !ctx.signal.aborted) {
      await sleep(Math.max(10, Math.min(1000, pending[0].due - Date.now())));
      await sendLabels(false);
    }
    await serving.log.drain();
    return { ...counts, seconds: (Date.now() - started) / 1000 };
  };

  /**
   * What an endpoint saw, as training data: logged inputs of primary predictions (newest
   * first, up to MAX_EXPORT_ROWS, optionally only the last `sinceMinutes`) with their labels
   * in `labelColumn`, into a new version of the output dataset. The retraining half of the
   * closed loop: the model learns from the traffic that drifted away from it.
   */
  const exportPredictions = async (ctx: TaskContext<ExportPredictionsPayload>) => {
    const { deploymentId, outputDatasetId, sinceMinutes, labelledOnly, labelColumn } = ctx.payload;
    await ctx.db.getRepository(DeploymentEntity).findOneByOrFail({ id: deploymentId, projectId: ctx.projectId });
    return withTempDir(config.dataDir, "export-predictions-", async (dir) => {
      const ndjson = path.join(dir, "rows.ndjson");
      const out = createWriteStream(ndjson);
      let lastSeq: string | null = null;
      let rows = 0;
      for (;;) {
        if (ctx.signal.aborted) throw new JobCancelledError();
        const page: { seq: string; inputs: Record<string, unknown>; label: unknown }[] = await ctx.db.query(
          `SELECT l.seq::text AS seq, l.inputs, b.label FROM prediction_log l
           ${labelledOnly ? "JOIN" : "LEFT JOIN"} prediction_labels b ON b.deployment_id = l.deployment_id AND b.request_id = l.request_id
           WHERE l.deployment_id = $1 AND l.role = 'primary' AND ($2::int IS NULL OR l.at > now() - make_interval(mins => $2::int))
             AND ($3::bigint IS NULL OR l.seq < $3::bigint)
           ORDER BY l.seq DESC LIMIT 10000`,
          [deploymentId, sinceMinutes, lastSeq],
        );
        if (page.length === 0) break;
        for (const r of page) {
          const line = JSON.stringify({ ...r.inputs, [labelColumn]: r.label ?? null }) + "\n";
          if (!out.write(line)) await once(out, "drain");
        }
        rows += page.length;
        lastSeq = page[page.length - 1].seq;
        await ctx.progress(Math.min(0.8, rows / MAX_EXPORT_ROWS), `${rows} predictions read`);
        if (rows >= MAX_EXPORT_ROWS) break;
      }
      out.end();
      await once(out, "close");
      if (rows === 0) throw new OuroError("BAD_USER_INPUT", labelledOnly ? "no labelled predictions to export (send labels with logLabels, or export unlabelled ones)" : "no predictions to export");
      const parquet = path.join(dir, "out.parquet");
      const converted = await runInSubprocess<unknown, Converted>(INGEST_WORK, "fileToParquet", { file: ndjson, spec: { format: "ndjson" }, out: parquet }, { signal: ctx.signal });
      const { version } = await storeParquetVersion(ctx.db, store, parquet, {
        projectId: ctx.projectId,
        datasetId: outputDatasetId,
        schema: converted.schema,
        rowCount: converted.rowCount,
        source: { kind: "predictionLog", deploymentId, sinceMinutes, labelledOnly, labelColumn },
      });
      return { versionId: version.id, rowCount: converted.rowCount };
    });
  };

  return { [BATCH_PREDICT]: batchPredict as TaskHandlers[string], [SIMULATE]: simulate as TaskHandlers[string], [EXPORT_PREDICTIONS]: exportPredictions as TaskHandlers[string] };
}
