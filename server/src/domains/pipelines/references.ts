import { sql, type Db, type Tx } from "../../platform/db";

/**
 * Something that still needs an object, so it may not be deleted. Pipelines, their runs and
 * jobs name objects by id inside their JSON (steps, params, triggers, payloads), not by
 * foreign key, so a delete has to look for them.
 */
export interface Use<K extends string = string> {
  kind: K;
  id: string;
  name: string;
  /** How it uses the object, for a person. */
  how: string;
}

export type InFlightKind = "pipeline" | "pipelineRun" | "job";

const KIND_TEXT: Record<InFlightKind, string> = { pipeline: "pipeline", pipelineRun: "pipeline run of", job: "job" };

/** What this check reads of a pipeline's spec and triggers (pipeline.spec.ts). */
interface PipelineRefs {
  spec: { params?: unknown; steps?: { id: string; kind: string; params?: unknown }[] };
  triggers: { kind: string; datasetId?: string }[];
}

/** The id appears somewhere in the JSON. */
const mentions = (value: unknown, id: string) => JSON.stringify(value ?? null).includes(id);

/**
 * The project's pipelines (a step, the default params or a trigger), queued or running
 * pipeline runs and jobs whose JSON names `id`. `datasetTrigger` also counts a pipeline's
 * `datasetVersion` trigger on that dataset, which mentions the dataset rather than `id`.
 */
export async function inFlightUses(
  via: Db | Tx,
  projectId: string,
  id: string,
  datasetTrigger?: { datasetId: string; how: string },
): Promise<Use<InFlightKind>[]> {
  const uses: Use<InFlightKind>[] = [];
  const datasetId = datasetTrigger?.datasetId ?? null;
  const pipelines = await sql<{ id: string; name: string } & PipelineRefs>(
    via,
    `SELECT id, name, spec, triggers FROM pipelines
     WHERE project_id = $1 AND (strpos(spec::text, $2) > 0 OR strpos(triggers::text, $2) > 0 OR ($3::text IS NOT NULL AND strpos(triggers::text, $3) > 0))
     ORDER BY name`,
    [projectId, id, datasetId],
  );
  for (const p of pipelines) {
    const use = (how: string) => uses.push({ kind: "pipeline", id: p.id, name: p.name, how });
    for (const step of p.spec.steps ?? []) if (mentions(step.params, id)) use(`step ${step.id} (${step.kind})`);
    if (mentions(p.spec.params, id)) use("its default params");
    for (const t of p.triggers) {
      const onDataset = t.kind === "datasetVersion" && datasetId !== null && t.datasetId === datasetId;
      if (onDataset || mentions(t, id)) use(`its ${t.kind} trigger${onDataset ? ` ${datasetTrigger!.how}` : ""}`);
    }
  }

  const runs = await sql<{ id: string; name: string; status: string }>(
    via,
    `SELECT r.id, p.name, r.status FROM pipeline_runs r JOIN pipelines p ON p.id = r.pipeline_id
     WHERE r.project_id = $1 AND r.status IN ('queued', 'running') AND (strpos(r.spec::text, $2) > 0 OR strpos(r.params::text, $2) > 0)
     ORDER BY r.created_at`,
    [projectId, id],
  );
  for (const r of runs) uses.push({ kind: "pipelineRun", id: r.id, name: r.name, how: r.status });

  const jobs = await sql<{ id: string; kind: string; status: string }>(
    via,
    `SELECT id, kind, status FROM jobs WHERE project_id = $1 AND status IN ('queued', 'running') AND strpos(payload::text, $2) > 0 ORDER BY created_at`,
    [projectId, id],
  );
  for (const j of jobs) uses.push({ kind: "job", id: j.id, name: `${j.kind} ${j.id}`, how: j.status });
  return uses;
}

/** "deployment risk-api (active, …); pipeline nightly (step refresh (materialize))". */
export function describeUses<K extends string>(uses: Use<K>[], kindText: Record<Exclude<K, InFlightKind>, string>): string {
  const text = { ...KIND_TEXT, ...kindText } as Record<string, string>;
  return uses.map((u) => `${text[u.kind]} ${u.name} (${u.how})`).join("; ");
}
