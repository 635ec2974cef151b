import { createReadStream } from "node:fs";
import path from "node:path";
import type { ArtifactStore } from "../../platform/artifacts";
import type { Config } from "../../platform/config";
import { sql, type Db } from "../../platform/db";
import { badInput } from "../../platform/errors";
import { runInSubprocess } from "../../platform/subprocess";
import { withTempDir } from "../../platform/tmp";
import type { TaskContext, TaskHandlers } from "../../platform/tasks";
import { DatasetVersionEntity } from "../datasets/dataset-version.entity";
import { registerVersion, versionArtifact } from "../datasets/dataset.service";
import { ModelVersionEntity } from "../models/model-version.entity";
import type { ModelArtifact } from "../models/model.service";
import type { SavedModel } from "../models/training";
import { RecipeEntity } from "../recipes/recipe.entity";
import { fittedOf } from "../recipes/recipe.service";
import { ArtifactEntity } from "../runs/artifact.entity";
import { consensus, sameLabel, type LabelValue } from "./label-schema";
import { LabellingTaskEntity } from "./labelling-task.entity";
import { BUILD_LABELLING_QUEUE, EXPORT_LABELS, touchTask } from "./labelling.service";
import type { ExportInput, LoggedRow, SelectedRow, SelectInput } from "./labelling.work";

const WORK = path.join(__dirname, "labelling.work.ts");
/** Newest logged predictions considered for one queue; older ones in the range are left out. */
const MAX_LOG_CANDIDATES = 200_000;
const INSERT_BATCH = 1000;

export interface BuildPayload {
  taskId: string;
}

export interface ExportPayload {
  taskId: string;
  datasetId: string;
  labelledOnly: boolean;
}

/** What an item's stored prediction says: a deployment's logged output or a model's {label, probabilities}. */
const predictedOf = (p: unknown): unknown => {
  if (p === null || typeof p !== "object" || Array.isArray(p)) return p ?? null;
  const o = p as { prediction?: unknown; label?: unknown };
  return o.prediction ?? o.label ?? null;
};

export function labellingTasks(store: ArtifactStore, config: Config): TaskHandlers {
  const fileOf = async (db: Db, version: DatasetVersionEntity) => store.localPath((await versionArtifact(db, version)).sha256);

  /** A registered model and its fitted recipe, as the scoring subprocess takes them. */
  const modelOf = async (ctx: TaskContext<unknown>, id: string) => {
    const mv = await ctx.db.getRepository(ModelVersionEntity).findOneByOrFail({ id, projectId: ctx.projectId });
    const artifact = await ctx.db.getRepository(ArtifactEntity).findOneByOrFail({ id: mv.artifactId! });
    const chunks: Buffer[] = [];
    for await (const c of await store.open(artifact.sha256)) chunks.push(c as Buffer);
    const model = (JSON.parse(Buffer.concat(chunks).toString("utf8")) as ModelArtifact).saved as SavedModel;
    const recipe = mv.recipeId ? await ctx.db.getRepository(RecipeEntity).findOneByOrFail({ id: mv.recipeId }) : null;
    return { model, fitted: recipe ? fittedOf(recipe) : null };
  };

  /** Rows of an earlier task on the same source that its labellers disagreed on, most disputed first. */
  const disputed = async (db: Db, fromTaskId: string, size: number): Promise<SelectedRow[]> => {
    const items = await sql<{ row_index: string | null; request_id: string | null; values: Record<string, unknown>; prediction: unknown; labels: LabelValue[] }>(
      db,
      `SELECT i.row_index, i.request_id, i."values", i.prediction, array_agg(l.value) AS labels
       FROM labelling_items i JOIN labelling_labels l ON l.item_id = i.id AND NOT l.skipped
       WHERE i.task_id = $1 GROUP BY i.id HAVING count(*) >= 2 ORDER BY i.position`,
      [fromTaskId],
    );
    return items
      .map((i) => {
        const top = Math.max(...i.labels.map((a) => i.labels.filter((b) => sameLabel(a, b)).length));
        return { rowIndex: i.row_index === null ? null : Number(i.row_index), requestId: i.request_id, values: i.values, prediction: i.prediction, score: 1 - top / i.labels.length };
      })
      .filter((i) => i.score > 0)
      .sort((a, b) => b.score - a.score) // stable: equally disputed rows keep queue order
      .slice(0, size);
  };

  const build = async (ctx: TaskContext<BuildPayload>) => {
    const task = await ctx.db.getRepository(LabellingTaskEntity).findOneByOrFail({ id: ctx.payload.taskId, projectId: ctx.projectId });
    // A try that crashed after committing the queue must not rebuild it under labels already given.
    if (task.status === "ready") return { taskId: task.id, alreadyBuilt: true };
    await ctx.db.transaction((tx) => touchTask(tx, task.id, { status: "building" }));
    try {
      const sel = task.selection;
      let items: SelectedRow[];
      let candidates: number;
      if (sel.strategy === "disagreement" && sel.fromTaskId) {
        items = await disputed(ctx.db, sel.fromTaskId, task.size);
        candidates = items.length;
      } else {
        const input: SelectInput = { file: null, logged: null, size: task.size, seed: sel.seed, strategy: "random", model: null, fitted: null, compareColumn: null, rows: null };
        if (task.source.kind === "datasetVersion") {
          const version = await ctx.db.getRepository(DatasetVersionEntity).findOneBy({ id: task.source.versionId, projectId: ctx.projectId });
          if (!version) throw badInput("the source dataset version no longer exists");
          input.file = await fileOf(ctx.db, version);
        } else {
          const { deploymentId, from, to, role } = task.source;
          const rows = await sql<{ request_id: string; inputs: Record<string, unknown>; outputs: LoggedRow["outputs"] }>(
            ctx.db,
            `SELECT DISTINCT ON (request_id) request_id, inputs, outputs FROM (
               SELECT request_id, inputs, outputs, at, seq FROM prediction_log
               WHERE deployment_id = $1 AND role = $2 AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at < $4)
               ORDER BY at DESC, seq DESC LIMIT $5) recent
             ORDER BY request_id, at DESC, seq DESC`,
            [deploymentId, role, from, to, MAX_LOG_CANDIDATES],
          );
          input.logged = rows.map((r) => ({ requestId: r.request_id, inputs: r.inputs, outputs: r.outputs ?? {} }));
        }
        if (sel.strategy !== "random") {
          input.strategy = sel.strategy === "leastConfident" ? "leastConfident" : "modelVsColumn";
          if (sel.modelVersionId) Object.assign(input, await modelOf(ctx, sel.modelVersionId));
          if (sel.strategy === "disagreement") input.compareColumn = sel.compareColumn;
        }
        await ctx.progress(0.1, `selecting ${task.size} rows (${sel.strategy})`);
        ({ items, candidates } = await runInSubprocess<SelectInput, { items: SelectedRow[]; candidates: number }>(WORK, "selectRows", input, { signal: ctx.signal }));
      }
      if (items.length === 0) throw badInput(`no rows to label: the selection found none among ${candidates} candidate rows`);
      await ctx.progress(0.8, `queueing ${items.length} rows`);
      await ctx.db.transaction(async (tx) => {
        // A retried build replaces what a crashed try may have written.
        await tx.query("DELETE FROM labelling_items WHERE task_id = $1", [task.id]);
        for (let start = 0; start < items.length; start += INSERT_BATCH) {
          const batch = items.slice(start, start + INSERT_BATCH).map((it, k) => ({ position: start + k, row_index: it.rowIndex, request_id: it.requestId, values: it.values, score: it.score, prediction: it.prediction }));
          await tx.query(
            `INSERT INTO labelling_items (task_id, position, row_index, request_id, "values", score, prediction)
             SELECT $1, x.position, x.row_index, x.request_id, x."values", x.score, x.prediction
             FROM jsonb_to_recordset($2::jsonb) AS x(position int, row_index bigint, request_id text, "values" jsonb, score float8, prediction jsonb)`,
            [task.id, JSON.stringify(batch)],
          );
        }
        await touchTask(tx, task.id, { status: "ready" });
      });
      return { taskId: task.id, items: items.length, candidates };
    } catch (err) {
      await ctx.db.transaction((tx) => touchTask(tx, task.id, { status: "failed", error: (err as Error).message.slice(0, 2000) }));
      throw err;
    }
  };

  const exportLabels = async (ctx: TaskContext<ExportPayload>) => {
    const task = await ctx.db.getRepository(LabellingTaskEntity).findOneByOrFail({ id: ctx.payload.taskId, projectId: ctx.projectId });
    const rows = await sql<{ position: number; row_index: string | null; request_id: string | null; values: Record<string, unknown>; prediction: unknown; labels: LabelValue[] | null }>(
      ctx.db,
      `SELECT i.position, i.row_index, i.request_id, i."values", i.prediction,
              array_agg(l.value ORDER BY l.created_at) FILTER (WHERE l.value IS NOT NULL) AS labels
       FROM labelling_items i LEFT JOIN labelling_labels l ON l.item_id = i.id AND NOT l.skipped
       WHERE i.task_id = $1 GROUP BY i.id ORDER BY i.position`,
      [task.id],
    );
    const agreed = rows.map((r) => ({ row: r, votes: r.labels?.length ?? 0, label: consensus(task.labelSchema, r.labels ?? []) }));
    const fromLog = task.source.kind === "predictionLog";
    let file: string | null = null;
    if (!fromLog) {
      const version = task.sourceVersionId ? await ctx.db.getRepository(DatasetVersionEntity).findOneBy({ id: task.sourceVersionId }) : null;
      if (!version) throw badInput("the source dataset version no longer exists");
      file = await fileOf(ctx.db, version);
    }
    return withTempDir(config.dataDir, "labels-", async (dir) => {
      const out = path.join(dir, "labelled.parquet");
      await ctx.progress(0.2, `writing ${agreed.filter((a) => a.label !== null).length} labels`);
      const input: ExportInput = {
        file,
        logged: fromLog ? rows.map((r) => ({ requestId: r.request_id!, inputs: r.values, prediction: predictedOf(r.prediction) })) : null,
        labels: agreed.map((a, k) => ({ index: fromLog ? k : Number(a.row.row_index), label: a.label, votes: a.votes })),
        schema: task.labelSchema,
        labelColumn: task.labelColumn,
        labelledOnly: ctx.payload.labelledOnly,
        out,
      };
      const written = await runInSubprocess<ExportInput, { schema: DatasetVersionEntity["schema"]; rowCount: number; labelled: number }>(WORK, "writeLabelled", input, { signal: ctx.signal });
      const blob = await store.put(createReadStream(out));
      const { version, created } = await registerVersion(ctx.db, {
        projectId: ctx.projectId,
        datasetId: ctx.payload.datasetId,
        sha256: blob.sha256,
        byteSize: blob.byteSize,
        schema: written.schema,
        rowCount: written.rowCount,
        source: { kind: "labelling", taskId: task.id, task: task.name, labelColumn: task.labelColumn, labelsPerRow: task.labelsPerRow, ...(fromLog ? { deploymentId: task.deploymentId } : {}) },
        tags: ["labelled"],
        parentVersionIds: task.sourceVersionId ? [task.sourceVersionId] : [],
      });
      let predictionLabels = 0;
      if (fromLog) {
        const labelled = agreed.filter((a) => a.label !== null);
        // Ground truth for monitors: the latest export wins for a request.
        await ctx.db.query(
          `INSERT INTO prediction_labels (deployment_id, request_id, label)
           SELECT $1, x.request_id, x.label FROM jsonb_to_recordset($2::jsonb) AS x(request_id text, label jsonb)
           ON CONFLICT (deployment_id, request_id) DO UPDATE SET label = EXCLUDED.label, at = now()`,
          [task.deploymentId, JSON.stringify(labelled.map((a) => ({ request_id: a.row.request_id, label: a.label })))],
        );
        predictionLabels = labelled.length;
      }
      return { versionId: version.id, version: version.version, created, rows: written.rowCount, labelled: written.labelled, predictionLabels };
    });
  };

  return { [BUILD_LABELLING_QUEUE]: build as TaskHandlers[string], [EXPORT_LABELS]: exportLabels as TaskHandlers[string] };
}
