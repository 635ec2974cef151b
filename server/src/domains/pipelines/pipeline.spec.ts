import { badInput } from "../../platform/errors";
import { parseCron } from "./cron";

/**
 * A pipeline is a list of typed steps. A step's params are literals or references to what
 * earlier steps produced — "${train.runId}", "${ingest.versionId}" — or to the run's params,
 * "${params.datasetVersionId}". A string that is exactly one reference takes the referenced
 * value whatever its type; references inside longer strings are interpolated as text.
 * Dependencies are the steps referenced, plus any named in `after`.
 */
export interface StepSpec {
  id: string;
  kind: StepKind;
  params: Record<string, unknown>;
  after?: string[];
}

export interface PipelineSpec {
  /** Defaults of the run's params. */
  params?: Record<string, unknown>;
  steps: StepSpec[];
}

export type TriggerSpec =
  | { kind: "manual" }
  | { kind: "cron"; schedule: string }
  | { kind: "datasetVersion"; datasetId: string }
  | { kind: "alert"; monitorId?: string | null }
  | { kind: "webhook" };

export const STEP_KINDS = ["ingest", "fitRecipe", "applyRecipe", "materialize", "buildTrainingSet", "train", "search", "evaluate", "register", "gate", "deploy", "exportPredictions"] as const;
export type StepKind = (typeof STEP_KINDS)[number];

interface KindShape {
  required: string[];
  /** Groups of params of which exactly one must be given. */
  oneOf?: string[][];
  optional: string[];
  /** What later steps may reference. */
  outputs: string[];
}

const TRAIN_PARAMS = ["experiment", "runName", "validationVersionId", "validationFraction", "features", "recipeId", "model", "seed", "positiveClass"];

export const KINDS: Record<StepKind, KindShape> = {
  ingest: { required: ["dataset"], oneOf: [["path", "url", "uploadId"]], optional: ["format", "tags"], outputs: ["versionId", "datasetId", "rows"] },
  fitRecipe: { required: ["recipeId", "versionId"], optional: [], outputs: ["recipeId", "versionId"] },
  applyRecipe: { required: ["recipeId", "versionId", "outputDataset"], optional: [], outputs: ["versionId", "datasetId", "rows"] },
  materialize: { required: ["featureSetId"], optional: ["sourceVersionId"], outputs: ["versionId", "featureSetId", "rows"] },
  buildTrainingSet: { required: ["spineVersionId", "spineTime", "featureSetIds", "outputDataset"], optional: [], outputs: ["versionId", "datasetId", "rows"] },
  train: { required: ["datasetVersionId", "target", "task"], optional: TRAIN_PARAMS, outputs: ["runId", "artifactId", "metrics"] },
  search: {
    required: ["datasetVersionId", "target", "task", "space"],
    optional: [...TRAIN_PARAMS, "strategy", "trials", "maxConcurrent", "metric", "maximize", "earlyStopping", "halving"],
    outputs: ["runId", "parentRunId", "bestScore", "bestModel"],
  },
  evaluate: { required: ["datasetVersionId"], oneOf: [["runId", "modelVersionId"]], optional: [], outputs: ["metrics", "evaluationArtifactId", "runId"] },
  register: { required: ["runId", "model"], optional: ["alias", "card"], outputs: ["modelVersionId", "modelId", "version", "metrics"] },
  gate: {
    required: ["metric"],
    oneOf: [["modelVersionId", "metrics"], ["threshold", "baseline"]],
    optional: ["op", "margin", "passWithoutBaseline"],
    outputs: ["passed", "value", "baseline"],
  },
  /**
   * Creates the endpoint `name`, or points all its traffic at the version if it exists; with
   * `canary` ({weight, minLabels, mode}) an existing endpoint starts a rollout instead.
   */
  deploy: { required: ["modelVersionId", "name"], optional: ["canary"], outputs: ["deploymentId", "revision", "rollout"] },
  /** An endpoint's logged predictions with their labels as a new dataset version: training data from live traffic. */
  exportPredictions: { required: ["deploymentId", "outputDataset"], optional: ["sinceMinutes", "labelledOnly", "labelColumn"], outputs: ["versionId", "datasetId", "rows"] },
};

/** Metric names a gate may compare: what evaluation and training validation record. */
export const GATE_METRICS = ["accuracy", "precision_macro", "recall_macro", "f1_macro", "log_loss", "roc_auc", "precision", "recall", "f1", "rmse", "mae", "r2"];
export const GATE_OPS = [">=", ">", "<=", "<"] as const;

const STEP_ID = /^[a-zA-Z][\w-]{0,39}$/;
const REF = /\$\{([^}]*)\}/g;
const MAX_STEPS = 50;
const MAX_SPEC_BYTES = 256 * 1024;

export interface Ref {
  step: string;
  path: string[];
}

/** Every reference in a value, walking objects and arrays. */
export function refsIn(value: unknown, out: Ref[] = []): Ref[] {
  if (typeof value === "string") {
    for (const m of value.matchAll(REF)) {
      const parts = m[1].trim().split(".");
      out.push({ step: parts[0], path: parts.slice(1) });
    }
  } else if (Array.isArray(value)) value.forEach((v) => refsIn(v, out));
  else if (value && typeof value === "object") Object.values(value).forEach((v) => refsIn(v, out));
  return out;
}

/** Replaces references with values from `scope` (step id or "params" → object). */
export function resolveRefs(value: unknown, scope: Record<string, unknown>, where: string): unknown {
  const lookup = (expr: string): unknown => {
    const [head, ...path] = expr.trim().split(".");
    let v: unknown = scope[head];
    for (const p of path) v = v !== null && typeof v === "object" ? (v as Record<string, unknown>)[p] : undefined;
    if (v === undefined) throw badInput(`${where}: \${${expr}} has no value`, { path: where });
    return v;
  };
  if (typeof value === "string") {
    const whole = /^\$\{([^}]*)\}$/.exec(value);
    if (whole) return lookup(whole[1]);
    return value.replace(REF, (_m, expr: string) => {
      const v = lookup(expr);
      return typeof v === "string" ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => resolveRefs(v, scope, `${where}[${i}]`));
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveRefs(v, scope, `${where}.${k}`)]));
  return value;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

function checkGate(p: Record<string, unknown>, at: string): void {
  if (typeof p.metric !== "string" || !GATE_METRICS.includes(p.metric)) {
    throw badInput(`${at}.metric: unknown metric ${JSON.stringify(p.metric)}; one of ${GATE_METRICS.join(", ")}`, { path: `${at}.metric` });
  }
  if (p.op !== undefined && !GATE_OPS.includes(p.op as never)) throw badInput(`${at}.op: one of ${GATE_OPS.join(" ")}`, { path: `${at}.op` });
  if (p.margin !== undefined && typeof p.margin !== "number" && refsIn(p.margin).length === 0) throw badInput(`${at}.margin: a number`, { path: `${at}.margin` });
  if (p.threshold !== undefined && typeof p.threshold !== "number" && refsIn(p.threshold).length === 0) throw badInput(`${at}.threshold: a number`, { path: `${at}.threshold` });
  if (p.baseline !== undefined) {
    const b = p.baseline;
    if (!isObject(b) || typeof b.model !== "string" || typeof b.alias !== "string") throw badInput(`${at}.baseline: {model, alias}, e.g. {model: "churn", alias: "production"}`, { path: `${at}.baseline` });
  }
}

/**
 * Checks a spec before anything is stored or run: known step kinds, unique ids, required
 * params, references to existing earlier outputs, and no cycles. Errors name the path.
 * Returns the steps in an order where every step comes after its dependencies.
 */
export function validateSpec(raw: unknown): { spec: PipelineSpec; order: string[]; deps: Map<string, Set<string>> } {
  if (JSON.stringify(raw ?? null).length > MAX_SPEC_BYTES) throw badInput(`spec: at most ${MAX_SPEC_BYTES} bytes`, { path: "spec" });
  if (!isObject(raw)) throw badInput("spec: an object {params?, steps: [...]}", { path: "spec" });
  if (raw.params !== undefined && !isObject(raw.params)) throw badInput("spec.params: an object of default values", { path: "spec.params" });
  const steps = raw.steps;
  if (!Array.isArray(steps) || steps.length === 0 || steps.length > MAX_STEPS) throw badInput(`spec.steps: 1 to ${MAX_STEPS} steps`, { path: "spec.steps" });
  const ids = new Map<string, number>();
  steps.forEach((s, i) => {
    const at = `spec.steps[${i}]`;
    if (!isObject(s)) throw badInput(`${at}: a step {id, kind, params}`, { path: at });
    if (typeof s.id !== "string" || !STEP_ID.test(s.id) || s.id === "params") throw badInput(`${at}.id: a name of letters, digits, _ or - (not "params")`, { path: `${at}.id` });
    if (ids.has(s.id)) throw badInput(`${at}.id: step id ${s.id} is used twice`, { path: `${at}.id` });
    ids.set(s.id, i);
    if (!STEP_KINDS.includes(s.kind as StepKind)) throw badInput(`${at}.kind: unknown step kind ${JSON.stringify(s.kind)}; one of ${STEP_KINDS.join(", ")}`, { path: `${at}.kind` });
    if (s.params !== undefined && !isObject(s.params)) throw badInput(`${at}.params: an object`, { path: `${at}.params` });
    if (s.after !== undefined && (!Array.isArray(s.after) || s.after.some((a) => typeof a !== "string"))) throw badInput(`${at}.after: a list of step ids`, { path: `${at}.after` });
  });
  const defaults = (raw.params ?? {}) as Record<string, unknown>;
  const deps = new Map<string, Set<string>>();
  const parsed: StepSpec[] = steps.map((s: Record<string, unknown>, i) => {
    const at = `spec.steps[${i}]`;
    const kind = s.kind as StepKind;
    const shape = KINDS[kind];
    const params = (s.params ?? {}) as Record<string, unknown>;
    for (const name of shape.required) if (params[name] === undefined || params[name] === null) throw badInput(`${at}.params.${name}: required for a ${kind} step`, { path: `${at}.params.${name}` });
    for (const group of shape.oneOf ?? []) {
      const given = group.filter((g) => params[g] !== undefined && params[g] !== null);
      if (given.length !== 1) throw badInput(`${at}.params: a ${kind} step needs exactly one of ${group.join(", ")}`, { path: `${at}.params` });
    }
    const known = new Set([...shape.required, ...shape.optional, ...(shape.oneOf ?? []).flat()]);
    for (const name of Object.keys(params)) if (!known.has(name)) throw badInput(`${at}.params.${name}: not a parameter of a ${kind} step`, { path: `${at}.params.${name}` });
    const mine = new Set<string>((s.after as string[] | undefined) ?? []);
    for (const a of mine) if (!ids.has(a)) throw badInput(`${at}.after: unknown step ${a}`, { path: `${at}.after` });
    for (const [name, value] of Object.entries(params)) {
      for (const ref of refsIn(value)) {
        const where = `${at}.params.${name}`;
        if (ref.step === "params") {
          if (ref.path.length === 0) throw badInput(`${where}: \${params} needs a name, e.g. \${params.versionId}`, { path: where });
          continue;
        }
        const target = ids.get(ref.step);
        if (target === undefined) throw badInput(`${where}: reference to unknown step ${JSON.stringify(ref.step)}`, { path: where });
        const outputs = KINDS[steps[target].kind as StepKind].outputs;
        if (ref.path.length === 0 || !outputs.includes(ref.path[0])) {
          throw badInput(`${where}: a ${steps[target].kind} step outputs ${outputs.join(", ")}; not ${JSON.stringify(ref.path.join("."))}`, { path: where });
        }
        mine.add(ref.step);
      }
    }
    if (mine.has(s.id as string)) throw badInput(`${at}: step ${s.id} depends on itself`, { path: at });
    if (kind === "gate") checkGate(params, `${at}.params`);
    deps.set(s.id as string, mine);
    return { id: s.id as string, kind, params, ...(s.after ? { after: s.after as string[] } : {}) };
  });
  // Kahn's algorithm: what is left once no step without pending dependencies remains is a cycle.
  const order: string[] = [];
  const remaining = new Map([...deps].map(([id, d]) => [id, new Set(d)]));
  while (remaining.size) {
    const ready = [...remaining].filter(([, d]) => d.size === 0).map(([id]) => id);
    if (ready.length === 0) {
      const cycle = [...remaining.keys()];
      throw badInput(`spec.steps: the steps ${cycle.join(", ")} form a cycle`, { path: "spec.steps", steps: cycle });
    }
    for (const id of ready) {
      order.push(id);
      remaining.delete(id);
      for (const d of remaining.values()) d.delete(id);
    }
  }
  return { spec: { params: defaults, steps: parsed }, order, deps };
}

/** Checks triggers' shapes (references to datasets and monitors are checked by the service). */
export function validateTriggers(raw: unknown): TriggerSpec[] {
  if (raw === undefined || raw === null) return [{ kind: "manual" }];
  if (!Array.isArray(raw) || raw.length > 20) throw badInput("triggers: a list of at most 20", { path: "triggers" });
  return raw.map((t, i): TriggerSpec => {
    const at = `triggers[${i}]`;
    if (!isObject(t)) throw badInput(`${at}: {kind, ...}`, { path: at });
    switch (t.kind) {
      case "manual":
      case "webhook":
        return { kind: t.kind };
      case "cron":
        if (typeof t.schedule !== "string") throw badInput(`${at}.schedule: a 5-field cron expression such as "0 3 * * *"`, { path: `${at}.schedule` });
        try {
          parseCron(t.schedule);
        } catch (err) {
          throw badInput(`${at}.schedule: ${(err as Error).message}`, { path: `${at}.schedule` });
        }
        return { kind: "cron", schedule: t.schedule };
      case "datasetVersion":
        if (typeof t.datasetId !== "string" || !/^[0-9a-f-]{36}$/i.test(t.datasetId)) throw badInput(`${at}.datasetId: a dataset id`, { path: `${at}.datasetId` });
        return { kind: "datasetVersion", datasetId: t.datasetId };
      case "alert":
        if (t.monitorId != null && (typeof t.monitorId !== "string" || !/^[0-9a-f-]{36}$/i.test(t.monitorId))) throw badInput(`${at}.monitorId: a monitor id`, { path: `${at}.monitorId` });
        return { kind: "alert", monitorId: (t.monitorId as string | null | undefined) ?? null };
      default:
        throw badInput(`${at}.kind: one of manual, cron, datasetVersion, alert, webhook`, { path: `${at}.kind` });
    }
  });
}

/** Stable JSON (sorted keys): what the step cache hashes. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (isObject(value)) return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  return JSON.stringify(value ?? null);
}
