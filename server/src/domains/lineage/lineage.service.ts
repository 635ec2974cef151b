import { sql, type Db } from "../../platform/db";

export type NodeKind = "datasetVersion" | "recipe" | "run" | "modelVersion" | "featureSet" | "pipelineRun" | "deployment";

export interface LineageNode {
  id: string;
  kind: NodeKind;
  label: string;
  projectId: string;
  createdAt: Date;
}

export interface LineageEdge {
  from: string;
  to: string;
  /** What `to` is of `from`: derived, fitted, trainedOn, registered, materialized, ... */
  relation: string;
}

const MAX_NODES = 500;

/** One query per kind: the node itself. */
const LOOKUP: Record<NodeKind, string> = {
  datasetVersion: `SELECT v.id, v.project_id, d.name || ' v' || v.version AS label, v.created_at FROM dataset_versions v JOIN datasets d ON d.id = v.dataset_id WHERE v.id = ANY($1::uuid[])`,
  recipe: `SELECT id, project_id, name AS label, created_at FROM recipes WHERE id = ANY($1::uuid[])`,
  run: `SELECT id, project_id, name AS label, created_at FROM runs WHERE id = ANY($1::uuid[])`,
  modelVersion: `SELECT mv.id, mv.project_id, m.name || ' v' || mv.version AS label, mv.created_at FROM model_versions mv JOIN models m ON m.id = mv.model_id WHERE mv.id = ANY($1::uuid[])`,
  featureSet: `SELECT id, project_id, name AS label, created_at FROM feature_sets WHERE id = ANY($1::uuid[])`,
  deployment: `SELECT id, project_id, name AS label, created_at FROM deployments WHERE id = ANY($1::uuid[])`,
  pipelineRun: `SELECT pr.id, pr.project_id, p.name || ' run ' || to_char(pr.created_at, 'YYYY-MM-DD HH24:MI') AS label, pr.created_at FROM pipeline_runs pr JOIN pipelines p ON p.id = pr.pipeline_id WHERE pr.id = ANY($1::uuid[])`,
};

/**
 * What a pipeline run's steps made: step kind, output field, node kind. A cached step is
 * left out (the run that first made its outputs links to them), so a schedule that re-runs
 * an unchanged pipeline every hour does not crowd the graph.
 */
const PIPELINE_OUTPUTS = `
  SELECT s.pipeline_run_id, o.kind, (s.outputs->>o.field)::uuid AS id, 'produced' AS rel
  FROM pipeline_run_steps s
  JOIN (VALUES ('ingest', 'versionId', 'datasetVersion'), ('applyRecipe', 'versionId', 'datasetVersion'), ('materialize', 'versionId', 'datasetVersion'),
               ('buildTrainingSet', 'versionId', 'datasetVersion'), ('fitRecipe', 'recipeId', 'recipe'), ('train', 'runId', 'run'), ('search', 'runId', 'run'),
               ('register', 'modelVersionId', 'modelVersion'), ('exportPredictions', 'versionId', 'datasetVersion')) AS o(step, field, kind) ON o.step = s.kind
  WHERE s.status = 'succeeded' AND NOT s.cache_hit AND s.outputs->>o.field ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'`;

/**
 * Every edge touching the given ids, as (from kind, from, to kind, to, relation), both
 * directions. Each relation is read from where Ouro records it: a version's parents and
 * recipe, a recipe's fitting version, a training run's params, a model version's run and
 * recipe, a feature set's source and materialized versions.
 */
const EDGES = `
  SELECT 'datasetVersion' AS fk, p AS f, 'datasetVersion' AS tk, v.id AS t, 'derived' AS rel FROM dataset_versions v, unnest(v.parent_version_ids) AS p WHERE v.id = ANY($1::uuid[]) OR p = ANY($1::uuid[])
  UNION ALL SELECT 'recipe', v.recipe_id, 'datasetVersion', v.id, 'produced' FROM dataset_versions v WHERE v.recipe_id IS NOT NULL AND (v.id = ANY($1::uuid[]) OR v.recipe_id = ANY($1::uuid[]))
  UNION ALL SELECT 'datasetVersion', r.fitted_on_version_id, 'recipe', r.id, 'fitted' FROM recipes r WHERE r.fitted_on_version_id IS NOT NULL AND (r.id = ANY($1::uuid[]) OR r.fitted_on_version_id = ANY($1::uuid[]))
  UNION ALL SELECT 'datasetVersion', p.value::uuid, 'run', p.run_id, 'trainedOn' FROM params p WHERE p.key = 'trainVersionId' AND (p.run_id = ANY($1::uuid[]) OR p.value = ANY($1::text[]))
  UNION ALL SELECT 'recipe', p.value::uuid, 'run', p.run_id, 'preprocessed' FROM params p WHERE p.key = 'recipeId' AND (p.run_id = ANY($1::uuid[]) OR p.value = ANY($1::text[]))
  UNION ALL SELECT 'run', mv.run_id, 'modelVersion', mv.id, 'registered' FROM model_versions mv WHERE mv.run_id IS NOT NULL AND (mv.id = ANY($1::uuid[]) OR mv.run_id = ANY($1::uuid[]))
  UNION ALL SELECT 'datasetVersion', fs.source_version_id, 'featureSet', fs.id, 'source' FROM feature_sets fs WHERE fs.source_version_id IS NOT NULL AND (fs.id = ANY($1::uuid[]) OR fs.source_version_id = ANY($1::uuid[]))
  UNION ALL SELECT 'featureSet', fs.id, 'datasetVersion', fs.materialized_version_id, 'materialized' FROM feature_sets fs WHERE fs.materialized_version_id IS NOT NULL AND (fs.id = ANY($1::uuid[]) OR fs.materialized_version_id = ANY($1::uuid[]))
  UNION ALL SELECT 'recipe', fs.recipe_id, 'featureSet', fs.id, 'computes' FROM feature_sets fs WHERE fs.recipe_id IS NOT NULL AND (fs.id = ANY($1::uuid[]) OR fs.recipe_id = ANY($1::uuid[]))
  UNION ALL SELECT 'modelVersion', mv.v::uuid, 'deployment', d.id, 'serves' FROM deployments d,
    jsonb_array_elements(coalesce(d.traffic->'routes', '[]') || coalesce(d.traffic->'shadow', '[]')) AS r(route), jsonb_array_elements_text(r.route->'modelVersionIds') AS mv(v)
    WHERE d.id = ANY($1::uuid[]) OR mv.v = ANY($1::text[])
  UNION ALL SELECT 'deployment', (v.source->>'deploymentId')::uuid, 'datasetVersion', v.id, 'logged' FROM dataset_versions v
    WHERE v.source->>'kind' = 'predictionLog' AND (v.id = ANY($1::uuid[]) OR v.source->>'deploymentId' = ANY($1::text[]))
  UNION ALL SELECT 'pipelineRun', po.pipeline_run_id, po.kind, po.id, po.rel FROM (${PIPELINE_OUTPUTS}) po WHERE po.pipeline_run_id = ANY($1::uuid[]) OR po.id = ANY($1::uuid[])`;

export async function nodeKindOf(db: Db, id: string): Promise<LineageNode | null> {
  for (const kind of Object.keys(LOOKUP) as NodeKind[]) {
    const [row] = await sql<{ id: string; project_id: string; label: string; created_at: Date }>(db, LOOKUP[kind], [[id]]);
    if (row) return { id: row.id, kind, label: row.label, projectId: row.project_id, createdAt: row.created_at };
  }
  return null;
}

/**
 * The connected lineage graph around `start` (upstream and downstream), within its project,
 * breadth first, at most MAX_NODES nodes.
 */
export async function lineageGraph(db: Db, start: LineageNode): Promise<{ nodes: LineageNode[]; edges: LineageEdge[]; truncated: boolean }> {
  const nodes = new Map<string, LineageNode>([[start.id, start]]);
  const edges = new Map<string, LineageEdge>();
  let frontier = [start.id];
  let truncated = false;
  while (frontier.length) {
    const rows = await sql<{ fk: NodeKind; f: string; tk: NodeKind; t: string; rel: string }>(db, EDGES, [frontier]);
    const found = new Map<NodeKind, Set<string>>();
    for (const r of rows) {
      edges.set(`${r.f}>${r.t}:${r.rel}`, { from: r.f, to: r.t, relation: r.rel });
      for (const [kind, id] of [[r.fk, r.f], [r.tk, r.t]] as [NodeKind, string][]) {
        if (!nodes.has(id)) (found.get(kind) ?? found.set(kind, new Set()).get(kind)!).add(id);
      }
    }
    frontier = [];
    for (const [kind, ids] of found) {
      const rows = await sql<{ id: string; project_id: string; label: string; created_at: Date }>(db, LOOKUP[kind], [[...ids]]);
      for (const row of rows) {
        if (row.project_id !== start.projectId) continue;
        if (nodes.size >= MAX_NODES) {
          truncated = true;
          break;
        }
        nodes.set(row.id, { id: row.id, kind, label: row.label, projectId: row.project_id, createdAt: row.created_at });
        frontier.push(row.id);
      }
    }
  }
  const kept = [...edges.values()].filter((e) => nodes.has(e.from) && nodes.has(e.to));
  return { nodes: [...nodes.values()], edges: kept, truncated };
}
