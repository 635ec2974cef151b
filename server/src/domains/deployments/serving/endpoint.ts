// One deployment revision compiled for serving: its routes with their models loaded, ready
// to turn request rows into answers. A new revision is compiled beside the old one and
// swapped in when ready, so in-flight and new requests never meet a half-loaded endpoint.
import { createHash } from "node:crypto";
import { applyRow } from "../../recipes/engine/apply-row";
import { OuroError } from "../../../platform/errors";
import type { DeploymentEntity } from "../deployment.entity";
import type { Route, ServingGraph, Traffic } from "../deployment.spec";
import { MicroBatcher } from "./batcher";
import type { Servable } from "./servable";
import { rowProblems, type FieldProblem } from "./validate";

export interface RowAnswer {
  label?: string;
  probabilities?: Record<string, number>;
  value?: number;
}

export interface CompiledRoute {
  route: Route;
  members: Servable[];
  /** Union of the members' inputs. */
  inputs: Servable["inputs"];
  /** Their names, for validation. */
  inputNames: Set<string>;
}

export interface ScoredGroup {
  route: CompiledRoute;
  rows: number[];
  answers: RowAnswer[];
}

export class InvalidRows extends OuroError {
  constructor(readonly problems: FieldProblem[]) {
    super("BAD_USER_INPUT", `invalid input: ${problems.length} problem${problems.length > 1 ? "s" : ""} (${problems.slice(0, 3).map((p) => `row ${p.row} ${p.field}: ${p.reason}`).join("; ")}${problems.length > 3 ? "; ..." : ""})`, { fields: problems.slice(0, 100) });
  }
}

export class CompiledEndpoint {
  readonly id: string;
  readonly projectId: string;
  readonly revision: number;
  readonly status: string;
  private readonly batchers = new Map<string, MicroBatcher>();
  private readonly totalWeight: number;
  private readonly extras: Set<string>;

  constructor(
    readonly deployment: DeploymentEntity,
    readonly graph: ServingGraph,
    readonly traffic: Traffic,
    readonly routes: CompiledRoute[],
    readonly shadow: CompiledRoute[],
    maxQueuedRows: number,
  ) {
    this.id = deployment.id;
    this.projectId = deployment.projectId;
    this.revision = deployment.revision;
    this.status = deployment.status;
    this.totalWeight = routes.reduce((s, r) => s + r.route.weight, 0);
    this.extras = this.allowedExtras();
    if (graph.microBatch) {
      for (const r of [...routes, ...shadow]) {
        for (const m of r.members) {
          if (this.batchers.has(m.versionId)) continue;
          const outWidth = m.signature.task === "multiclass" ? m.signature.classes!.length : 1;
          this.batchers.set(m.versionId, new MicroBatcher((x, n) => scoreModel(m, x, n), m.features.length, outWidth, { ...graph.microBatch, maxQueuedRows }));
        }
      }
    }
  }

  /** Columns callers may send besides the models' inputs. */
  allowedExtras(): Set<string> {
    const extra = new Set<string>();
    if (this.traffic.stickyKey) extra.add(this.traffic.stickyKey);
    if (this.graph.enrich) extra.add(this.graph.enrich.entityColumn);
    return extra;
  }

  /** Which primary route each row takes: by hash of its sticky key, else at random by weight. */
  pickRoute(row: Record<string, unknown>): CompiledRoute {
    if (this.routes.length === 1) return this.routes[0];
    const key = this.traffic.stickyKey ? row[this.traffic.stickyKey] : undefined;
    const u = key === undefined || key === null ? Math.random() : hashUnit(String(key));
    let at = u * this.totalWeight;
    for (const r of this.routes) {
      if (r.route.weight === 0) continue;
      if (at < r.route.weight) return r;
      at -= r.route.weight;
    }
    return this.routes.filter((r) => r.route.weight > 0).at(-1)!;
  }

  /** Validates every row against its route; all problems are reported together. */
  validate(rows: Record<string, unknown>[], routes: CompiledRoute[]): void {
    const problems: FieldProblem[] = [];
    rows.forEach((row, i) => problems.push(...rowProblems(row, i, routes[i].inputs, this.extras, routes[i].inputNames)));
    if (problems.length) throw new InvalidRows(problems);
  }

  /**
   * Scores rows (already validated) on one route, combining an ensemble's members. A single
   * model without micro-batching answers synchronously (no promise, no event-loop hop: the
   * common case of the hot path); problems are thrown either way.
   */
  score(route: CompiledRoute, rows: Record<string, unknown>[], indexes: number[]): RowAnswer[] | Promise<RowAnswer[]> {
    if (route.members.length === 1 && !this.batchers.has(route.members[0].versionId)) {
      const m = route.members[0];
      return answers(m, scoreModel(m, this.features(m, rows, indexes), indexes.length), indexes.length, this.graph.threshold);
    }
    return Promise.all(route.members.map((m) => this.scoreMember(m, rows, indexes))).then((perMember) => (perMember.length === 1 ? perMember[0] : combine(route, perMember, this.graph.threshold)));
  }

  private async scoreMember(m: Servable, rows: Record<string, unknown>[], indexes: number[]): Promise<RowAnswer[]> {
    const x = this.features(m, rows, indexes);
    const batcher = this.batchers.get(m.versionId);
    const out = batcher ? await batcher.submit(x, indexes.length) : scoreModel(m, x, indexes.length);
    return answers(m, out, indexes.length, this.graph.threshold);
  }

  /** The model's feature matrix for the rows: each through the model's recipe, checked finite. */
  private features(m: Servable, rows: Record<string, unknown>[], indexes: number[]): Float32Array {
    const width = m.features.length;
    const x = new Float32Array(indexes.length * width);
    const problems: FieldProblem[] = [];
    indexes.forEach((rowIndex, k) => {
      const raw = rows[rowIndex];
      let features: Record<string, unknown> | null;
      try {
        features = m.fitted ? applyRow(raw, m.fitted) : raw;
      } catch (err) {
        const details = (err as OuroError).details as { column?: string } | undefined;
        problems.push({ row: rowIndex, field: details?.column ?? "", reason: (err as Error).message });
        return;
      }
      if (features === null) {
        problems.push({ row: rowIndex, field: "", reason: "the model's recipe filters this row out (a filter or dropNulls step)" });
        return;
      }
      for (let j = 0; j < width; j++) {
        const v = features[m.features[j]];
        const n = typeof v === "boolean" ? Number(v) : typeof v === "string" ? Number(v) : (v as number);
        if (typeof n !== "number" || !Number.isFinite(n)) {
          problems.push({ row: rowIndex, field: m.features[j], reason: `feature is ${v === null || v === undefined ? "missing" : JSON.stringify(v)} after the recipe; the model needs a finite number` });
          return;
        }
        x[k * width + j] = n;
      }
    });
    if (problems.length) throw new InvalidRows(problems);
    return x;
  }
}

function answers(m: Servable, out: Float32Array, rows: number, threshold: number | null): RowAnswer[] {
  const { task, classes } = m.signature;
  const result: RowAnswer[] = new Array(rows);
  for (let i = 0; i < rows; i++) {
    if (task === "regression" || !classes) {
      result[i] = { value: out[i] };
    } else if (task === "binary") {
      const p = out[i];
      result[i] = { label: classes[p >= (threshold ?? 0.5) ? 1 : 0], probabilities: { [classes[0]]: 1 - p, [classes[1]]: p } };
    } else {
      const probs: Record<string, number> = {};
      let best = 0;
      for (let c = 0; c < classes.length; c++) {
        probs[classes[c]] = out[i * classes.length + c];
        if (out[i * classes.length + c] > out[i * classes.length + best]) best = c;
      }
      result[i] = { label: classes[best], probabilities: probs };
    }
  }
  return result;
}

function combine(route: CompiledRoute, perMember: RowAnswer[][], threshold: number | null): RowAnswer[] {
  const n = perMember[0].length;
  const out: RowAnswer[] = [];
  for (let i = 0; i < n; i++) {
    const answers = perMember.map((a) => a[i]);
    if (answers[0].value !== undefined) {
      out.push({ value: answers.reduce((s, a) => s + a.value!, 0) / answers.length });
      continue;
    }
    const probabilities: Record<string, number> = {};
    for (const a of answers) for (const [k, p] of Object.entries(a.probabilities!)) probabilities[k] = (probabilities[k] ?? 0) + p / answers.length;
    let label: string;
    if (route.route.combine === "vote") {
      const votes = new Map<string, number>();
      for (const a of answers) votes.set(a.label!, (votes.get(a.label!) ?? 0) + 1);
      // Ties go to the label with the higher mean probability.
      label = [...votes.entries()].sort((a, b) => b[1] - a[1] || probabilities[b[0]] - probabilities[a[0]])[0][0];
    } else {
      const classes = Object.keys(probabilities);
      label = classes.length === 2 && threshold !== null ? (probabilities[classes[1]] >= threshold ? classes[1] : classes[0]) : classes.reduce((a, b) => (probabilities[b] > probabilities[a] ? b : a));
    }
    out.push({ label, probabilities });
  }
  return out;
}

/** A stable number in [0, 1) from a key: the same key always lands on the same route. */
export function hashUnit(key: string): number {
  return createHash("sha1").update(key).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * Routes must answer the same kind of question (one task); an ensemble's members must also
 * predict the same classes, since their probabilities are combined. Routes may differ in
 * classes: a challenger retrained on recent data may have seen fewer of them.
 */
export function checkCompatible(routes: CompiledRoute[]): void {
  const first = routes[0].members[0].signature;
  for (const r of routes) {
    const lead = r.members[0].signature;
    for (const m of r.members) {
      if (m.signature.task !== first.task) throw new OuroError("CONFLICT", `model ${m.model} v${m.version} is a ${m.signature.task} model; the endpoint serves ${first.task}`);
      if (JSON.stringify(m.signature.classes) !== JSON.stringify(lead.classes)) throw new OuroError("CONFLICT", `ensemble ${r.route.name}: model ${m.model} v${m.version} predicts classes ${JSON.stringify(m.signature.classes)}, the others ${JSON.stringify(lead.classes)}`);
    }
  }
}

export function compileRoute(route: Route, members: Servable[]): CompiledRoute {
  const inputs = new Map<string, Servable["inputs"][number]>();
  for (const m of members) for (const f of m.inputs) if (!inputs.has(f.name)) inputs.set(f.name, f);
  return { route, members, inputs: [...inputs.values()], inputNames: new Set(inputs.keys()) };
}

/**
 * A model that throws while scoring (a backend out of memory, a corrupt weight the loader
 * accepted): the request fails with an error naming the model version, never its internals;
 * the serving engine logs the cause with the request id and counts it per version.
 */
export class ModelFailure extends OuroError {
  constructor(
    readonly servable: Pick<Servable, "versionId" | "model" | "version">,
    readonly reason: unknown,
  ) {
    super("INTERNAL", `model ${servable.model} v${servable.version} failed while scoring; the error is logged with this request's id`, { modelVersionId: servable.versionId });
  }
}

function scoreModel(m: Servable, x: Float32Array, rows: number): Float32Array {
  try {
    return m.score(x, rows);
  } catch (err) {
    throw new ModelFailure(m, err);
  }
}
