// What a deployment stores: its serving graph (jsonb `graph`) and its traffic policy
// (jsonb `traffic`). Plain data, validated here on every write, so the serving path can
// trust what it reads.
import { badInput } from "../../platform/errors";

/** One routable target: a model version, or an ensemble of several combined per row. */
export interface Route {
  name: string;
  modelVersionIds: string[];
  /** How an ensemble's members are combined: mean of probabilities/values, or majority vote of labels. */
  combine: "mean" | "vote";
  weight: number;
}

export interface Traffic {
  /** Primary routes: each request row goes to one of them, in proportion to the weights. */
  routes: Route[];
  /** Mirrored routes: computed and logged for every row, never returned. */
  shadow: Route[];
  /** An input column whose value hashes to a route, so one key always sees one route (sticky A/B). */
  stickyKey: string | null;
}

export interface ServingGraph {
  /** Join the latest online features of `featureSetId` by the row's `entityColumn` before the recipe. */
  enrich: { featureSetId: string; entityColumn: string; features: string[] | null } | null;
  /** Binary classification: the probability at or above which the positive class is predicted. */
  threshold: number | null;
  /** Coalesce concurrent requests into one model call within `windowMs`, up to `maxBatch` rows. */
  microBatch: { windowMs: number; maxBatch: number } | null;
}

const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const COLUMN = /^[^\u0000-\u001f]{1,200}$/;

export function checkDeploymentName(name: string): string {
  if (!NAME.test(name)) throw badInput("deployment name: 1 to 63 lowercase letters, digits, '-' or '_', starting with a letter or digit (it is part of the endpoint URL)", { field: "name" });
  return name;
}

export interface RouteInputLike {
  name?: string | null;
  modelVersionIds: string[];
  combine?: string | null;
  weight?: number | null;
}

function checkRoute(r: RouteInputLike, index: number, where: "routes" | "shadow"): Route {
  const at = `${where}[${index}]`;
  if (!Array.isArray(r.modelVersionIds) || r.modelVersionIds.length === 0) throw badInput(`${at}: give at least one model version`, { field: at });
  if (r.modelVersionIds.length > 8) throw badInput(`${at}: an ensemble has at most 8 members`, { field: at });
  for (const id of r.modelVersionIds) if (!UUID.test(id)) throw badInput(`${at}: ${JSON.stringify(id)} is not a model version id`, { field: at });
  if (new Set(r.modelVersionIds).size !== r.modelVersionIds.length) throw badInput(`${at}: a model version appears twice`, { field: at });
  const combine = r.combine ?? "mean";
  if (combine !== "mean" && combine !== "vote") throw badInput(`${at}: combine is "mean" or "vote"`, { field: at });
  const weight = r.weight ?? (where === "shadow" ? 0 : 1);
  if (!Number.isFinite(weight) || weight < 0 || weight > 1e6) throw badInput(`${at}: weight must be a number from 0 to 1000000`, { field: at });
  const name = r.name ?? `route-${index + 1}`;
  if (!NAME.test(name)) throw badInput(`${at}: route name: lowercase letters, digits, '-' or '_'`, { field: at });
  return { name, modelVersionIds: [...r.modelVersionIds], combine, weight };
}

export function checkTraffic(input: { routes: RouteInputLike[]; shadow?: RouteInputLike[] | null; stickyKey?: string | null }): Traffic {
  if (!Array.isArray(input.routes) || input.routes.length === 0) throw badInput("traffic needs at least one route", { field: "routes" });
  if (input.routes.length > 16 || (input.shadow?.length ?? 0) > 4) throw badInput("at most 16 routes and 4 shadow routes");
  const routes = input.routes.map((r, i) => checkRoute(r, i, "routes"));
  const shadow = (input.shadow ?? []).map((r, i) => ({ ...checkRoute(r, i, "shadow"), weight: 0 }));
  if (routes.every((r) => r.weight === 0)) throw badInput("at least one route needs a weight above 0", { field: "routes" });
  const names = [...routes, ...shadow].map((r) => r.name);
  if (new Set(names).size !== names.length) throw badInput("route names must be distinct (shadow routes included)", { field: "routes" });
  const stickyKey = input.stickyKey ?? null;
  if (stickyKey !== null && !COLUMN.test(stickyKey)) throw badInput("stickyKey: a column name", { field: "stickyKey" });
  return { routes, shadow, stickyKey };
}

export function checkGraph(input: {
  enrich?: { featureSetId: string; entityColumn: string; features?: string[] | null } | null;
  threshold?: number | null;
  microBatch?: { windowMs?: number | null; maxBatch?: number | null } | null;
}): ServingGraph {
  const e = input.enrich;
  if (e) {
    if (!UUID.test(e.featureSetId)) throw badInput("enrich.featureSetId is not an id", { field: "enrich.featureSetId" });
    if (!COLUMN.test(e.entityColumn)) throw badInput("enrich.entityColumn: a column name", { field: "enrich.entityColumn" });
    if (e.features && (e.features.length === 0 || e.features.length > 500 || !e.features.every((f) => COLUMN.test(f)))) throw badInput("enrich.features: 1 to 500 column names", { field: "enrich.features" });
  }
  const threshold = input.threshold ?? null;
  if (threshold !== null && !(threshold > 0 && threshold < 1)) throw badInput("threshold must be between 0 and 1 (exclusive)", { field: "threshold" });
  const mb = input.microBatch;
  const windowMs = mb?.windowMs ?? 0;
  const maxBatch = mb?.maxBatch ?? 64;
  if (mb && (!(windowMs >= 0 && windowMs <= 100) || !Number.isInteger(maxBatch) || maxBatch < 1 || maxBatch > 4096)) {
    throw badInput("microBatch: windowMs from 0 to 100, maxBatch from 1 to 4096", { field: "microBatch" });
  }
  return {
    enrich: e ? { featureSetId: e.featureSetId, entityColumn: e.entityColumn, features: e.features ?? null } : null,
    threshold,
    microBatch: mb ? { windowMs, maxBatch } : null,
  };
}

export const allModelVersionIds = (t: Traffic): string[] => [...new Set([...t.routes, ...t.shadow].flatMap((r) => r.modelVersionIds))];
