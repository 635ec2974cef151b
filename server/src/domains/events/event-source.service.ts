import type { Viewer } from "../../platform/auth";
import type { Db } from "../../platform/db";
import { badInput, notFound } from "../../platform/errors";
import { recordAudit } from "../audit/audit.service";
import { DatasetEntity } from "../datasets/dataset.entity";
import { FeatureSetEntity } from "../features/feature-set.entity";
import { accessFeatureSet } from "../features/feature-set.service";
import { requireRole } from "../projects/project.service";
import { AGGREGATION_FUNCTIONS, type Aggregation, type AggregationFunction, type EventField, EventSourceEntity, FIELD_TYPES, type FieldType } from "./event.entity";

const NAME = /^[a-z][a-z0-9_]{0,62}$/;
const COLUMN = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const WINDOW = /^(\d{1,5})(m|h|d)$/;
const MAX_WINDOW_MINUTES = 30 * 24 * 60;

export interface NewEventFeatureSet {
  projectId: string;
  name: string;
  entityKeys: string[];
  eventTimeColumn: string;
  eventIdColumn: string;
  fields: { name: string; type: string }[];
  aggregations: { name: string; function: string; field?: string | null; window: string }[];
  allowedLatenessSeconds?: number | null;
  maxFutureSkewSeconds?: number | null;
}

/** "90m", "1h", "7d" → minutes. */
export function parseWindow(w: string): number {
  const m = WINDOW.exec(w.trim());
  const minutes = m ? Number(m[1]) * { m: 1, h: 60, d: 1440 }[m[2] as "m" | "h" | "d"] : NaN;
  if (!(minutes >= 1 && minutes <= MAX_WINDOW_MINUTES)) throw badInput(`window "${w}": a whole number of minutes (m), hours (h) or days (d), from 1m to 30d`);
  return minutes;
}

function checkDefinition(input: NewEventFeatureSet): { fields: EventField[]; aggregations: Aggregation[] } {
  if (!NAME.test(input.name)) throw badInput("feature set name: lowercase letters, digits and _, starting with a letter", { field: "name" });
  const names = [input.eventTimeColumn, input.eventIdColumn, ...input.fields.map((f) => f.name)];
  const bad = names.find((n) => !COLUMN.test(n));
  if (bad !== undefined) throw badInput(`column "${bad}": letters, digits and _, starting with a letter or _ (at most 63)`);
  if (new Set(names).size !== names.length) throw badInput("the event time column, the event id column and the fields must have distinct names");
  if (input.fields.length < 1 || input.fields.length > 100) throw badInput("fields: 1 to 100");
  const fields = input.fields.map((f) => {
    if (!FIELD_TYPES.includes(f.type as FieldType)) throw badInput(`field ${f.name}: type must be one of ${FIELD_TYPES.join(", ")}`);
    return { name: f.name, type: f.type as FieldType };
  });
  const byName = new Map(fields.map((f) => [f.name, f]));
  if (input.entityKeys.length < 1 || input.entityKeys.length > 8) throw badInput("entityKeys: 1 to 8 fields");
  for (const k of input.entityKeys) {
    const f = byName.get(k);
    if (!f) throw badInput(`entity key ${k} must be declared in fields`);
    if (f.type !== "string" && f.type !== "integer") throw badInput(`entity key ${k} must be a string or integer field`);
  }
  if (input.aggregations.length < 1 || input.aggregations.length > 100) throw badInput("aggregations: 1 to 100");
  const aggregations = input.aggregations.map((a): Aggregation => {
    if (!NAME.test(a.name)) throw badInput(`aggregation name ${a.name}: lowercase letters, digits and _, starting with a letter`);
    if (byName.has(a.name) || input.entityKeys.includes(a.name) || a.name === input.eventTimeColumn) throw badInput(`aggregation name ${a.name} clashes with a field`);
    const fn = a.function as AggregationFunction;
    if (!AGGREGATION_FUNCTIONS.includes(fn)) throw badInput(`aggregation ${a.name}: function must be one of ${AGGREGATION_FUNCTIONS.join(", ")}`);
    const field = fn === "count" ? null : (a.field ?? null);
    if (fn !== "count") {
      const f = field ? byName.get(field) : undefined;
      if (!f) throw badInput(`aggregation ${a.name}: field ${field ?? "(none)"} is not declared`);
      if (["sum", "mean", "min", "max"].includes(fn) && f.type !== "integer" && f.type !== "float") throw badInput(`aggregation ${a.name}: ${fn} needs an integer or float field`);
    }
    return { name: a.name, function: fn, field, windowMinutes: parseWindow(a.window) };
  });
  if (new Set(aggregations.map((a) => a.name)).size !== aggregations.length) throw badInput("aggregation names must be distinct");
  return { fields, aggregations };
}

/**
 * An event feature set: a feature set (entity keys, the event time as its timestamp column,
 * the aggregations as its features) plus its event source. It has no source dataset; its
 * offline store gets versions from `materializeEventFeatures`.
 */
export async function createEventFeatureSet(db: Db, viewer: Viewer, input: NewEventFeatureSet, requestId?: string): Promise<{ featureSet: FeatureSetEntity; source: EventSourceEntity }> {
  await requireRole(db, viewer, input.projectId, "editor");
  const { fields, aggregations } = checkDefinition(input);
  const lateness = input.allowedLatenessSeconds ?? 3600;
  const skew = input.maxFutureSkewSeconds ?? 300;
  if (!Number.isInteger(lateness) || lateness < 0 || lateness > 30 * 86400) throw badInput("allowedLatenessSeconds: 0 to 2592000");
  if (!Number.isInteger(skew) || skew < 0 || skew > 86400) throw badInput("maxFutureSkewSeconds: 0 to 86400");
  return db.transaction(async (tx) => {
    await tx.query(`INSERT INTO datasets (project_id, name, description) VALUES ($1, $2, $3) ON CONFLICT (project_id, name) DO NOTHING`, [
      input.projectId,
      `features-${input.name}`,
      `Offline store of event feature set ${input.name}`,
    ]);
    const offline = await tx.findOneByOrFail(DatasetEntity, { projectId: input.projectId, name: `features-${input.name}` });
    const featureSet = await tx.getRepository(FeatureSetEntity).save({
      projectId: input.projectId,
      name: input.name,
      entityKeys: input.entityKeys,
      timestampColumn: input.eventTimeColumn,
      features: aggregations.map((a) => a.name),
      sourceDatasetId: null,
      sourceVersionId: null,
      recipeId: null,
      offlineDatasetId: offline.id,
      materializedVersionId: null,
      materializedAt: null,
      autoMaterialize: false,
    });
    const source = await tx.getRepository(EventSourceEntity).save({
      featureSetId: featureSet.id,
      projectId: input.projectId,
      eventIdColumn: input.eventIdColumn,
      fields,
      aggregations,
      allowedLatenessSeconds: lateness,
      maxFutureSkewSeconds: skew,
      watermark: null,
    });
    await recordAudit(tx, { projectId: input.projectId, actorId: viewer.userId, action: "featureSet.createFromEvents", targetType: "featureSet", targetId: featureSet.id, requestId });
    return { featureSet, source };
  });
}

/** The feature set and its event source, for a viewer with `role`; NOT_FOUND outside the project. */
export async function accessEventSource(db: Db, viewer: Viewer, featureSetId: string, role: "viewer" | "editor"): Promise<{ featureSet: FeatureSetEntity; source: EventSourceEntity }> {
  const featureSet = await accessFeatureSet(db, viewer, featureSetId, role);
  const source = await db.getRepository(EventSourceEntity).findOneBy({ featureSetId });
  if (!source) throw badInput(`feature set ${featureSet.name} is not an event feature set (create one with createEventFeatureSet)`);
  return { featureSet, source };
}

export async function eventSourceOf(db: Db, featureSetId: string): Promise<EventSourceEntity> {
  const source = await db.getRepository(EventSourceEntity).findOneBy({ featureSetId });
  if (!source) throw notFound("event source of feature set", featureSetId);
  return source;
}
