import type { Viewer } from "../../platform/auth";
import { Bus } from "../../platform/bus";
import { sql, withKeyLock, type Db, type Tx } from "../../platform/db";
import { badInput, forbidden, notFound, OuroError } from "../../platform/errors";
import type { Feed } from "../../platform/live";
import { recordAudit } from "../audit/audit.service";
import { DatasetVersionEntity } from "../datasets/dataset-version.entity";
import { enqueueJob } from "../jobs/job.service";
import { ModelVersionEntity } from "../models/model-version.entity";
import { requireRole, requireRowAccess } from "../projects/project.service";
import { agreement, type Agreement } from "./agreement";
import { LabelEntity, LabellingItemEntity } from "./labelling-item.entity";
import { LabellingTaskEntity, type LabellingSource, type Selection } from "./labelling-task.entity";
import { parseLabelSchema, parseLabelValue, type LabelSchemaInput, type LabelValue, type LabelValueInput } from "./label-schema";

export const BUILD_LABELLING_QUEUE = "labelling.build";
export const EXPORT_LABELS = "labelling.export";
export const labellingTopic = (taskId: string) => `labelling:${taskId}`;

const NAME = /^[a-z0-9][\w.-]{0,62}$/i;
const COLUMN = /^[^\u0000-\u001f]{1,100}$/;
export const MAX_QUEUE = 10_000;
/** How long items handed out by nextLabellingItems stay reserved for their labeller. */
const CLAIM_MINUTES = 30;

export interface NewLabellingTask {
  projectId: string;
  name: string;
  source: { datasetVersionId?: string | null; predictionLog?: { deploymentId: string; from?: Date | null; to?: Date | null; role?: string | null } | null };
  labelSchema: LabelSchemaInput;
  labelColumn?: string | null;
  selection: { strategy: string; seed?: number | null; modelVersionId?: string | null; fromTaskId?: string | null; compareColumn?: string | null };
  size: number;
  labelsPerRow?: number | null;
  assigneeIds?: string[] | null;
}

export async function accessTask(db: Db, viewer: Viewer, id: string, role: "viewer" | "editor" = "viewer"): Promise<LabellingTaskEntity> {
  return requireRowAccess(db, viewer, await db.getRepository(LabellingTaskEntity).findOneBy({ id }), "labelling task", id, role);
}

/** An editor who may label this task: an assignee, or anyone when the task names none. */
async function requireLabeller(db: Db, viewer: Viewer, task: LabellingTaskEntity): Promise<void> {
  if (task.assigneeIds.length && !task.assigneeIds.includes(viewer.userId)) throw forbidden("you are not one of this task's assignees");
  if (task.status !== "ready") throw new OuroError("CONFLICT", task.status === "failed" ? `the task's queue could not be built: ${task.error}` : "the task's queue is still being built; follow its build job");
}

async function checkModel(db: Db, projectId: string, id: string): Promise<ModelVersionEntity> {
  const mv = await db.getRepository(ModelVersionEntity).findOneBy({ id, projectId });
  if (!mv) throw badInput(`model version ${id} not found in this project`, { field: "selection.modelVersionId" });
  if ((mv.signature as { task?: string }).task === "regression") throw badInput("selection by confidence needs a classification model; this one is a regression", { field: "selection.modelVersionId" });
  if (!mv.artifactId) throw badInput(`model version ${id} has no stored model`, { field: "selection.modelVersionId" });
  return mv;
}

/** Checks everything a client can get wrong before anything is written, then creates the task and its build job. */
export async function createLabellingTask(db: Db, viewer: Viewer, input: NewLabellingTask, maxAttempts: number, requestId?: string) {
  const { projectId } = input;
  await requireRole(db, viewer, projectId, "editor");
  if (!NAME.test(input.name)) throw badInput("task name: 1 to 63 letters, digits, '.', '-' or '_', starting with a letter or digit", { field: "name" });
  const labelSchema = parseLabelSchema(input.labelSchema);
  const labelColumn = input.labelColumn ?? "label";
  if (!COLUMN.test(labelColumn)) throw badInput("labelColumn: 1 to 100 printable characters", { field: "labelColumn" });
  if (!Number.isInteger(input.size) || input.size < 1 || input.size > MAX_QUEUE) throw badInput(`size: 1 to ${MAX_QUEUE} rows`, { field: "size" });
  const labelsPerRow = input.labelsPerRow ?? 1;
  if (!Number.isInteger(labelsPerRow) || labelsPerRow < 1 || labelsPerRow > 20) throw badInput("labelsPerRow: 1 to 20", { field: "labelsPerRow" });

  const given = [input.source.datasetVersionId, input.source.predictionLog].filter((v) => v != null).length;
  if (given !== 1) throw badInput("source: give exactly one of datasetVersionId or predictionLog", { field: "source" });
  let source: LabellingSource;
  let version: DatasetVersionEntity | null = null;
  if (input.source.datasetVersionId) {
    version = await db.getRepository(DatasetVersionEntity).findOneBy({ id: input.source.datasetVersionId, projectId });
    if (!version) throw badInput(`dataset version ${input.source.datasetVersionId} not found in this project`, { field: "source.datasetVersionId" });
    const taken = version.schema.map((c) => c.name).filter((c) => c === labelColumn || c === `${labelColumn}_votes`);
    if (taken.length) throw badInput(`the source already has column ${taken[0]}; choose another labelColumn`, { field: "labelColumn" });
    source = { kind: "datasetVersion", versionId: version.id };
  } else {
    const log = input.source.predictionLog!;
    const [dep] = await sql(db, "SELECT 1 FROM deployments WHERE id = $1 AND project_id = $2", [log.deploymentId, projectId]);
    if (!dep) throw badInput(`deployment ${log.deploymentId} not found in this project`, { field: "source.predictionLog.deploymentId" });
    if (log.from && log.to && !(log.from < log.to)) throw badInput("source.predictionLog: from must be before to", { field: "source.predictionLog" });
    const role = log.role ?? "primary";
    if (role !== "primary" && role !== "shadow") throw badInput("source.predictionLog.role: primary or shadow", { field: "source.predictionLog.role" });
    source = { kind: "predictionLog", deploymentId: log.deploymentId, from: log.from?.toISOString() ?? null, to: log.to?.toISOString() ?? null, role };
  }

  const s = input.selection;
  const seed = s.seed ?? 42;
  if (!Number.isInteger(seed)) throw badInput("selection.seed must be an integer", { field: "selection.seed" });
  let selection: Selection;
  if (s.strategy === "random") selection = { strategy: "random", seed };
  else if (s.strategy === "leastConfident") {
    if (!s.modelVersionId && source.kind === "datasetVersion") throw badInput("least-confident selection over a dataset version needs selection.modelVersionId", { field: "selection.modelVersionId" });
    if (s.modelVersionId) await checkModel(db, projectId, s.modelVersionId);
    selection = { strategy: "leastConfident", seed, modelVersionId: s.modelVersionId ?? null };
  } else if (s.strategy === "disagreement") {
    if (!!s.fromTaskId === !!s.modelVersionId) throw badInput("disagreement: give fromTaskId (labellers who disagreed) or modelVersionId with compareColumn (model versus an existing label)", { field: "selection" });
    if (s.fromTaskId) {
      const from = await db.getRepository(LabellingTaskEntity).findOneBy({ id: s.fromTaskId, projectId });
      if (!from) throw badInput(`labelling task ${s.fromTaskId} not found in this project`, { field: "selection.fromTaskId" });
      if (from.sourceVersionId !== (version?.id ?? null) || from.deploymentId !== (source.kind === "predictionLog" ? source.deploymentId : null)) {
        throw badInput("selection.fromTaskId: that task labelled a different source", { field: "selection.fromTaskId" });
      }
    } else {
      if (!version || !s.compareColumn) throw badInput("model-versus-label disagreement needs a dataset version source and selection.compareColumn", { field: "selection.compareColumn" });
      if (!version.schema.some((c) => c.name === s.compareColumn)) throw badInput(`compareColumn ${s.compareColumn} is not a column of the source`, { field: "selection.compareColumn" });
      await checkModel(db, projectId, s.modelVersionId!);
    }
    selection = { strategy: "disagreement", seed, fromTaskId: s.fromTaskId ?? null, modelVersionId: s.modelVersionId ?? null, compareColumn: s.compareColumn ?? null };
  } else throw badInput("selection.strategy: random, leastConfident or disagreement", { field: "selection.strategy" });

  const assignees = [...new Set(input.assigneeIds ?? [])];
  if (assignees.length > 200) throw badInput("assigneeIds: at most 200", { field: "assigneeIds" });
  if (assignees.length) {
    const ok = await sql<{ id: string }>(
      db,
      `SELECT u.id FROM users u WHERE u.id = ANY($1::uuid[])
         AND (u.is_admin OR EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id AND m.project_id = $2 AND m.role IN ('editor', 'admin')))`,
      [assignees, projectId],
    );
    const missing = assignees.filter((a) => !ok.some((r) => r.id === a));
    if (missing.length) throw badInput(`assignees must be editors of the project: ${missing.slice(0, 5).join(", ")} ${missing.length > 1 ? "are" : "is"} not`, { field: "assigneeIds" });
  }
  if (await db.getRepository(LabellingTaskEntity).existsBy({ projectId, name: input.name })) {
    throw new OuroError("CONFLICT", `a labelling task named ${input.name} already exists in this project`);
  }

  return db.transaction(async (tx) => {
    const task = await tx.getRepository(LabellingTaskEntity).save({
      projectId,
      name: input.name,
      source,
      sourceVersionId: version?.id ?? null,
      deploymentId: source.kind === "predictionLog" ? source.deploymentId : null,
      labelSchema,
      labelColumn,
      selection,
      size: input.size,
      labelsPerRow,
      assigneeIds: assignees,
      status: "building",
      error: null,
      buildJobId: null,
      createdById: viewer.userId,
    });
    const { job } = await enqueueJob(tx, { projectId, kind: BUILD_LABELLING_QUEUE, payload: { taskId: task.id }, createdById: viewer.userId, maxAttempts });
    await tx.update(LabellingTaskEntity, { id: task.id }, { buildJobId: job.id });
    await recordAudit(tx, { projectId, actorId: viewer.userId, action: "labelling.create", targetType: "labellingTask", targetId: task.id, data: { jobId: job.id, strategy: selection.strategy, size: input.size }, requestId });
    return { task: await tx.findOneByOrFail(LabellingTaskEntity, { id: task.id }), job };
  });
}

/** Moves a task's progress cursor and tells followers; inside the transaction that made the change. */
export async function touchTask(tx: Tx, taskId: string, changes: Partial<Pick<LabellingTaskEntity, "status" | "error">> = {}): Promise<void> {
  await tx.query(
    `UPDATE labelling_tasks SET revision = revision + 1, updated_at = now(), status = coalesce($2, status), error = CASE WHEN $2::text IS NULL THEN error ELSE $3 END WHERE id = $1`,
    [taskId, changes.status ?? null, changes.error ?? null],
  );
  await Bus.publish(tx, labellingTopic(taskId));
}

/**
 * The caller's next items. Fair assignment: rows with the fewest labels (counting items other
 * labellers hold) come first, so several labellers spread over the queue before any row gets
 * a second look; a row is offered only while it has fewer than labelsPerRow labels and live
 * claims, and never to someone who answered or skipped it. Items handed out are claimed for
 * CLAIM_MINUTES; the caller's own claims come back first (a reload shows the same items).
 */
export async function nextItems(db: Db, viewer: Viewer, taskId: string, limit: number): Promise<LabellingItemEntity[]> {
  const task = await accessTask(db, viewer, taskId, "editor");
  await requireLabeller(db, viewer, task);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw badInput("limit: 1 to 100");
  return withKeyLock(db, `labelling:${taskId}`, async (tx) => {
    const rows = await sql<{ id: string }>(
      tx,
      `SELECT i.id FROM labelling_items i
         LEFT JOIN LATERAL (
           SELECT count(*) FILTER (WHERE c.user_id <> $2) AS others, bool_or(c.user_id = $2) AS mine
           FROM labelling_claims c WHERE c.item_id = i.id AND c.expires_at > now()) c ON true
       WHERE i.task_id = $1
         AND NOT EXISTS (SELECT 1 FROM labelling_labels l WHERE l.item_id = i.id AND l.user_id = $2)
         AND (coalesce(c.mine, false) OR i.label_count + c.others < $3)
       ORDER BY coalesce(c.mine, false) DESC, i.label_count + c.others, i.position
       LIMIT $4`,
      [taskId, viewer.userId, task.labelsPerRow, limit],
    );
    const ids = rows.map((r) => r.id);
    if (ids.length === 0) return [];
    await tx.query(
      `INSERT INTO labelling_claims (item_id, user_id, task_id, expires_at)
       SELECT unnest($1::uuid[]), $2, $3, now() + make_interval(mins => $4)
       ON CONFLICT (item_id, user_id) DO UPDATE SET expires_at = EXCLUDED.expires_at`,
      [ids, viewer.userId, taskId, CLAIM_MINUTES],
    );
    await tx.query("DELETE FROM labelling_claims WHERE task_id = $1 AND expires_at <= now()", [taskId]);
    const items = await tx.getRepository(LabellingItemEntity).findBy(ids.map((id) => ({ id })));
    return ids.map((id) => items.find((i) => i.id === id)!);
  });
}

/**
 * Records the caller's answer for an item (value null: a skip). One answer per labeller per
 * item: answering again replaces it. A labeller new to an item that already has all its
 * labels is refused, so an item never collects more than labelsPerRow.
 */
export async function answer(db: Db, viewer: Viewer, itemId: string, value: LabelValueInput | null, requestId?: string): Promise<LabelEntity> {
  const item = await db.getRepository(LabellingItemEntity).findOneBy({ id: itemId });
  const task = item ? await db.getRepository(LabellingTaskEntity).findOneBy({ id: item.taskId }) : null;
  if (!item || !task) throw notFound("labelling item", itemId);
  await requireRowAccess(db, viewer, task, "labelling item", itemId, "editor");
  await requireLabeller(db, viewer, task);
  const parsed: LabelValue | null = value ? parseLabelValue(task.labelSchema, value) : null;
  return withKeyLock(db, `labelling:${task.id}`, async (tx) => {
    const [{ count, mine }] = await sql<{ count: number; mine: boolean }>(
      tx,
      `SELECT (SELECT label_count FROM labelling_items WHERE id = $1) AS count,
              EXISTS (SELECT 1 FROM labelling_labels WHERE item_id = $1 AND user_id = $2) AS mine`,
      [itemId, viewer.userId],
    );
    if (!mine && parsed !== null && count >= task.labelsPerRow) throw new OuroError("CONFLICT", `item ${itemId} already has its ${task.labelsPerRow} label(s)`);
    await tx.query(
      `INSERT INTO labelling_labels (item_id, user_id, task_id, value, skipped) VALUES ($1, $2, $3, $4::jsonb, $5)
       ON CONFLICT (item_id, user_id) DO UPDATE SET value = EXCLUDED.value, skipped = EXCLUDED.skipped, updated_at = now()`,
      [itemId, viewer.userId, task.id, parsed === null ? null : JSON.stringify(parsed), parsed === null],
    );
    await tx.query("DELETE FROM labelling_claims WHERE item_id = $1 AND user_id = $2", [itemId, viewer.userId]);
    await tx.query("UPDATE labelling_items SET label_count = (SELECT count(*) FROM labelling_labels WHERE item_id = $1 AND NOT skipped) WHERE id = $1", [itemId]);
    await touchTask(tx, task.id);
    await recordAudit(tx, { projectId: task.projectId, actorId: viewer.userId, action: parsed === null ? "labelling.skip" : "labelling.label", targetType: "labellingItem", targetId: itemId, data: { taskId: task.id }, requestId });
    return tx.findOneByOrFail(LabelEntity, { itemId, userId: viewer.userId });
  });
}

export interface Progress {
  taskId: string;
  status: string;
  revision: string;
  totalItems: number;
  /** Items with at least one label. */
  labelledItems: number;
  /** Items with labelsPerRow labels. */
  completedItems: number;
  labels: number;
  skips: number;
  labellers: { userId: string; labels: number; skips: number }[];
}

export async function progressOf(db: Db, task: LabellingTaskEntity): Promise<Progress> {
  const [counts] = await sql<{ total: number; labelled: number; completed: number }>(
    db,
    `SELECT count(*)::int AS total, count(*) FILTER (WHERE label_count > 0)::int AS labelled, count(*) FILTER (WHERE label_count >= $2)::int AS completed
     FROM labelling_items WHERE task_id = $1`,
    [task.id, task.labelsPerRow],
  );
  const people = await sql<{ userId: string; labels: number; skips: number }>(
    db,
    `SELECT user_id AS "userId", count(*) FILTER (WHERE NOT skipped)::int AS labels, count(*) FILTER (WHERE skipped)::int AS skips
     FROM labelling_labels WHERE task_id = $1 GROUP BY user_id ORDER BY user_id`,
    [task.id],
  );
  return {
    taskId: task.id,
    status: task.status,
    revision: task.revision,
    totalItems: counts.total,
    labelledItems: counts.labelled,
    completedItems: counts.completed,
    labels: people.reduce((s, p) => s + p.labels, 0),
    skips: people.reduce((s, p) => s + p.skips, 0),
    labellers: people,
  };
}

/** labellingProgress's feed: the task's progress whenever its revision passes the cursor. */
export function progressFeed(db: Db, taskId: string): Feed<Progress> {
  return {
    topic: labellingTopic(taskId),
    fetchAfter: async (cursor) => {
      const task = await db.getRepository(LabellingTaskEntity).findOneBy({ id: taskId });
      return task && BigInt(task.revision) > cursor ? [await progressOf(db, task)] : [];
    },
    cursorOf: (p) => BigInt(p.revision),
  };
}

export async function agreementOf(db: Db, task: LabellingTaskEntity): Promise<Agreement> {
  const answers = await sql<{ itemId: string; userId: string; value: LabelValue }>(
    db,
    `SELECT item_id AS "itemId", user_id AS "userId", value FROM labelling_labels WHERE task_id = $1 AND NOT skipped`,
    [task.id],
  );
  return agreement(task.labelSchema, answers);
}

/** A page of the queue in order, each item with its answers. */
export async function listItems(db: Db, taskId: string, offset: number, limit: number): Promise<(LabellingItemEntity & { labels: LabelEntity[] })[]> {
  if (offset < 0 || limit < 1 || limit > 500) throw badInput("items: offset ≥ 0 and limit from 1 to 500");
  const items = await db.getRepository(LabellingItemEntity).find({ where: { taskId }, order: { position: "ASC" }, skip: offset, take: limit });
  const labels = items.length ? await db.getRepository(LabelEntity).createQueryBuilder("l").where("l.item_id IN (:...ids)", { ids: items.map((i) => i.id) }).orderBy("l.created_at", "ASC").getMany() : [];
  return items.map((i) => Object.assign(i, { labels: labels.filter((l) => l.itemId === i.id) }));
}
