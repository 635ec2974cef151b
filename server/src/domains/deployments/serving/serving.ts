// The serving engine of one process (the server, or an `ouro serve` replica): endpoints
// compiled per deployment revision, reloaded when the bus says a revision moved, and the
// predict path itself. Everything here is process-local state rebuilt from the database,
// so replicas are stateless and interchangeable.
import { randomUUID } from "node:crypto";
import type { ArtifactStore } from "../../../platform/artifacts";
import type { Viewer } from "../../../platform/auth";
import type { Bus } from "../../../platform/bus";
import type { Config } from "../../../platform/config";
import { sql, type Db } from "../../../platform/db";
import { badInput, OuroError } from "../../../platform/errors";
import type { Logger } from "../../../platform/logger";
import { DeploymentEntity } from "../deployment.entity";
import { DEPLOYMENT_CHANGED_TOPIC, graphOf, resolveEndpoint, trafficOf } from "../deployment.service";
import { onlineFeatures } from "../../features/feature-set.service";
import { checkCompatible, compileRoute, CompiledEndpoint, ModelFailure, type CompiledRoute, type RowAnswer } from "./endpoint";
import { PredictionLog, type LoggedPrediction } from "./prediction-log";
import type { KernelName } from "./kernel";
import { loadServable, ServableCache, type Servable } from "./servable";

export interface Prediction extends RowAnswer {
  /** This row's request id: what `logLabels` takes. */
  id: string;
  route: string;
  modelVersionId: string;
  model: string;
  version: number;
}

/** What one process serves for an endpoint: per route, each model version and the kernel scoring it. */
export interface EndpointStatus {
  deploymentId: string;
  name: string;
  revision: number;
  status: string;
  routes: {
    name: string;
    role: "primary" | "shadow";
    weight: number;
    members: { modelVersionId: string; model: string; version: number; kernel: KernelName; kernelFallback: string | null }[];
  }[];
  microBatching: boolean;
  /** Routes left out because their model failed to load. */
  problems: string[];
}

export interface PredictResponse {
  requestId: string;
  deploymentId: string;
  revision: number;
  predictions: Prediction[];
}

interface Slot {
  current: CompiledEndpoint | null;
  loading: Promise<CompiledEndpoint> | null;
  /** Load problems of the current revision (a route whose model failed to load is left out). */
  problems: string[];
}

const ACCESS_TTL_MS = 5000;

export class Serving {
  readonly log: PredictionLog;
  private readonly slots = new Map<string, Slot>();
  private readonly servables: ServableCache;
  private readonly access = new Map<string, { deploymentId: string; expires: number }>();
  private inFlight = 0;
  private unsubscribe: (() => void)[] = [];
  readonly counters = { requests: 0, rows: 0, rejected: 0, shadowFailures: 0 };
  /** Requests failed because a model threw while scoring, by model version (ModelFailure). */
  readonly modelFailures = new Map<string, number>();

  constructor(
    private readonly deps: { db: Db; bus: Bus; artifacts: ArtifactStore; logger: Logger; databaseUrl: string; config: Config },
  ) {
    const s = deps.config.serving;
    this.log = new PredictionLog(deps.databaseUrl, deps.logger, { maxBuffered: s.logBuffer, batchRows: 2000, flushMs: s.logFlushMs });
    this.servables = new ServableCache((id) => loadServable(deps.db, deps.artifacts, id, s.kernel));
  }

  start(): void {
    this.log.start();
    this.unsubscribe.push(
      this.deps.bus.subscribe(DEPLOYMENT_CHANGED_TOPIC, (msg) => {
        const { id } = (msg.data ?? {}) as { id?: string };
        this.access.clear();
        if (id && this.slots.has(id)) void this.reload(id);
      }),
      // After a lost bus connection, changes may have been missed: recheck every endpoint.
      this.deps.bus.onResync(() => {
        this.access.clear();
        for (const id of this.slots.keys()) void this.reload(id);
      }),
    );
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe) u();
    await this.log.stop();
  }

  /** Loads every active deployment's models now (a replica warming up before it takes traffic). */
  async warm(): Promise<number> {
    const rows = await sql<{ id: string }>(this.deps.db, "SELECT id FROM deployments WHERE status = 'active'");
    await Promise.all(rows.map((r) => this.endpoint(r.id).catch((err) => this.deps.logger.warn({ deploymentId: r.id, err: (err as Error).message }, "endpoint failed to warm"))));
    return rows.length;
  }

  /** The compiled endpoint of a deployment's latest revision this process knows. */
  async endpoint(id: string): Promise<CompiledEndpoint> {
    const slot = this.slots.get(id);
    if (slot?.current) return slot.current;
    if (slot?.loading) return slot.loading;
    return this.reload(id);
  }

  problems(id: string): string[] {
    return this.slots.get(id)?.problems ?? [];
  }

  /** The endpoint as this process serves it (loading it if needed): routes, versions, kernels. */
  async status(id: string): Promise<EndpointStatus> {
    const ep = await this.endpoint(id);
    const route = (r: CompiledRoute, role: "primary" | "shadow") => ({
      name: r.route.name,
      role,
      weight: r.route.weight,
      members: r.members.map((m) => ({ modelVersionId: m.versionId, model: m.model, version: m.version, kernel: m.kernel, kernelFallback: m.kernelFallback })),
    });
    return {
      deploymentId: ep.id,
      name: ep.deployment.name,
      revision: ep.revision,
      status: ep.status,
      routes: [...ep.routes.map((r) => route(r, "primary")), ...ep.shadow.map((r) => route(r, "shadow"))],
      microBatching: ep.graph.microBatch !== null && ep.graph.microBatch !== undefined,
      problems: this.problems(id),
    };
  }

  /** Model versions loaded in this process (for /metrics). */
  loadedServables(): Servable[] {
    return this.servables.ready();
  }

  /** Compiles the latest revision beside the current one, then swaps. A failed compile keeps the old revision serving. */
  private reload(id: string): Promise<CompiledEndpoint> {
    const slot = this.slots.get(id) ?? { current: null, loading: null, problems: [] };
    this.slots.set(id, slot);
    const loading = (async () => {
      const d = await this.deps.db.getRepository(DeploymentEntity).findOneBy({ id });
      if (!d) {
        this.slots.delete(id);
        throw new OuroError("NOT_FOUND", `deployment ${id} not found`);
      }
      if (slot.current && slot.current.revision >= d.revision) return slot.current;
      const { compiled, problems } = await this.compile(d);
      if (!slot.current || slot.current.revision < compiled.revision) {
        slot.current = compiled;
        slot.problems = problems;
        if (problems.length) this.deps.logger.warn({ deploymentId: id, problems }, "endpoint serving without some routes");
        this.scheduleRelease();
      }
      return slot.current;
    })();
    slot.loading = loading;
    loading
      .catch((err: unknown) => {
        // Deleted: the slot is gone already, and requests get 404; nothing went wrong.
        if (err instanceof OuroError && err.code === "NOT_FOUND") return this.deps.logger.info({ deploymentId: id }, "deployment deleted; endpoint dropped");
        this.deps.logger.error({ deploymentId: id, err: (err as Error).message }, "new deployment revision not loaded; the previous one keeps serving");
      })
      .finally(() => {
        if (slot.loading === loading) slot.loading = null;
      });
    return loading;
  }

  private async compile(d: DeploymentEntity): Promise<{ compiled: CompiledEndpoint; problems: string[] }> {
    const traffic = trafficOf(d);
    const problems: string[] = [];
    const build = async (routes: typeof traffic.routes) => {
      const out: CompiledRoute[] = [];
      for (const route of routes) {
        try {
          const members = await Promise.all(route.modelVersionIds.map((v) => this.servables.get(v)));
          out.push(compileRoute(route, members));
        } catch (err) {
          // Users see what they can act on; anything unexpected stays in the server log.
          const reason = err instanceof OuroError ? err.message : "its model failed to load (see the server log)";
          if (!(err instanceof OuroError)) this.deps.logger.error({ err, deploymentId: d.id, route: route.name }, "model failed to load");
          problems.push(`route ${route.name}: ${reason}`);
        }
      }
      return out;
    };
    const routes = await build(traffic.routes);
    const shadow = await build(traffic.shadow);
    if (routes.length) checkCompatible([...routes, ...shadow]);
    return { compiled: new CompiledEndpoint(d, graphOf(d), traffic, routes, shadow, this.deps.config.serving.maxQueuedRows), problems };
  }

  private releaseTimer: NodeJS.Timeout | null = null;

  /** Frees models no endpoint uses, after a grace period so requests still running on an old revision finish. */
  private scheduleRelease(): void {
    if (this.releaseTimer) clearTimeout(this.releaseTimer);
    this.releaseTimer = setTimeout(() => {
      const keep = new Set<string>();
      for (const s of this.slots.values()) for (const r of [...(s.current?.routes ?? []), ...(s.current?.shadow ?? [])]) for (const m of r.members) keep.add(m.versionId);
      this.servables.retain(keep);
    }, 30_000);
    this.releaseTimer.unref();
  }

  /** Resolves an endpoint URL's name or id for the caller, remembering the answer for a few seconds (membership changes apply within that time). */
  async resolve(viewer: Viewer, ref: string, projectId?: string | null): Promise<string> {
    const hit = this.resolveCached(viewer, ref, projectId);
    if (hit) return hit;
    const key = accessKey(viewer, ref, projectId);
    const d = await resolveEndpoint(this.deps.db, viewer, ref, projectId);
    if (this.access.size > 10_000) this.access.clear();
    this.access.set(key, { deploymentId: d.id, expires: Date.now() + ACCESS_TTL_MS });
    return d.id;
  }

  /** resolve()'s remembered answer, without a promise: the hot path's common case. */
  resolveCached(viewer: Viewer, ref: string, projectId?: string | null): string | undefined {
    const hit = this.access.get(accessKey(viewer, ref, projectId));
    return hit && hit.expires > Date.now() ? hit.deploymentId : undefined;
  }

  async predict(deploymentId: string, body: unknown, requestId: string = randomUUID()): Promise<PredictResponse> {
    const started = performance.now();
    const rows = readRows(body, this.deps.config.serving.maxRows);
    if (this.inFlight >= this.deps.config.serving.maxConcurrent) {
      this.counters.rejected += 1;
      throw new OuroError("UNAVAILABLE", "the server is overloaded; retry shortly");
    }
    this.inFlight += 1;
    try {
      // The compiled endpoint is almost always there already: take it without an await.
      const ep = this.slots.get(deploymentId)?.current ?? (await this.endpoint(deploymentId));
      if (ep.status !== "active") throw new OuroError("UNAVAILABLE", `endpoint ${ep.deployment.name} is stopped`);
      if (ep.routes.length === 0) throw new OuroError("UNAVAILABLE", `endpoint ${ep.deployment.name} has no model that loaded: ${this.problems(deploymentId).join("; ")}`);
      const enriched = ep.graph.enrich ? await this.enrich(ep, rows) : rows;
      const chosen = enriched.map((r) => ep.pickRoute(r));
      ep.validate(enriched, chosen);
      const groups = new Map<CompiledRoute, number[]>();
      chosen.forEach((r, i) => (groups.get(r) ?? groups.set(r, []).get(r)!).push(i));
      const predictions: Prediction[] = new Array(rows.length);
      const ids = rows.map((_, i) => (rows.length === 1 ? requestId : `${requestId}.${i}`));
      const fill = (route: CompiledRoute, indexes: number[], answers: RowAnswer[]) => {
        const m = route.members[0];
        indexes.forEach((rowIndex, k) => {
          predictions[rowIndex] = { id: ids[rowIndex], ...answers[k], route: route.route.name, modelVersionId: m.versionId, model: m.model, version: m.version };
        });
      };
      // Routes scored synchronously are filled at once; only batched or ensemble routes are awaited.
      const pending: Promise<void>[] = [];
      for (const [route, indexes] of groups) {
        let scored: RowAnswer[] | Promise<RowAnswer[]>;
        try {
          scored = ep.score(route, enriched, indexes);
        } catch (err) {
          scored = Promise.reject(err); // settled with the others below, so none is left unhandled
        }
        if (scored instanceof Promise) pending.push(scored.then((a) => fill(route, indexes, a)));
        else fill(route, indexes, scored);
      }
      if (pending.length) await Promise.all(pending);
      const latencyMs = performance.now() - started;
      const at = new Date();
      this.log.push(predictions.map((p, i) => logged(ep, p.id, p.modelVersionId, "primary", rows[i], p, latencyMs, at)));
      this.counters.requests += 1;
      this.counters.rows += rows.length;
      if (ep.shadow.length) setImmediate(() => void this.runShadows(ep, enriched, rows, ids));
      return { requestId, deploymentId: ep.id, revision: ep.revision, predictions };
    } catch (err) {
      if (err instanceof ModelFailure) {
        const versionId = err.servable.versionId;
        this.modelFailures.set(versionId, (this.modelFailures.get(versionId) ?? 0) + 1);
        this.deps.logger.error({ requestId, deploymentId, modelVersionId: versionId, err: err.reason }, "a model failed while scoring");
      }
      throw err;
    } finally {
      this.inFlight -= 1;
    }
  }

  /** Mirrored routes: scored after the answer went out, logged with role "shadow", never returned; their failures are only counted. */
  private async runShadows(ep: CompiledEndpoint, enriched: Record<string, unknown>[], raw: Record<string, unknown>[], ids: string[]): Promise<void> {
    const indexes = enriched.map((_, i) => i);
    for (const route of ep.shadow) {
      const started = performance.now();
      try {
        const answers = await ep.score(route, enriched, indexes);
        const latencyMs = performance.now() - started;
        const at = new Date();
        this.log.push(answers.map((a, i) => logged(ep, ids[i], route.members[0].versionId, "shadow", raw[i], a, latencyMs, at)));
      } catch {
        this.counters.shadowFailures += 1;
      }
    }
  }

  /** Adds the latest online features of each row's entity; values the caller sent win. */
  private async enrich(ep: CompiledEndpoint, rows: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
    const { featureSetId, entityColumn, features } = ep.graph.enrich!;
    const keys = [...new Set(rows.map((r) => r?.[entityColumn]).filter((k) => k !== undefined && k !== null).map(String))];
    if (keys.length === 0) return rows;
    const found = await onlineFeatures(this.deps.db, featureSetId, keys);
    const byKey = new Map(found.map((f) => [f.key, f.values]));
    const inputs = new Set(ep.routes.flatMap((r) => r.inputs.map((f) => f.name)));
    return rows.map((row) => {
      const values = row && byKey.get(String(row[entityColumn]));
      if (!values) return row;
      const extra: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(values)) if ((features ? features.includes(k) : true) && inputs.has(k) && row[k] === undefined) extra[k] = v;
      return { ...extra, ...row };
    });
  }
}

const accessKey = (viewer: Viewer, ref: string, projectId?: string | null) => `${viewer.userId}|${viewer.isAdmin}|${ref}|${projectId ?? ""}`;

function logged(ep: CompiledEndpoint, requestId: string, modelVersionId: string, role: "primary" | "shadow", inputs: unknown, answer: RowAnswer, latencyMs: number, at: Date): LoggedPrediction {
  const outputs = answer.value !== undefined ? { prediction: answer.value } : { prediction: answer.label, probabilities: answer.probabilities };
  return { deploymentId: ep.id, projectId: ep.projectId, requestId, modelVersionId, role, inputs, outputs, latencyMs, at };
}

/** `{"rows": [...]}`, a bare array of rows, or a single row object. */
export function readRows(body: unknown, maxRows: number): Record<string, unknown>[] {
  let rows: unknown;
  if (Array.isArray(body)) rows = body;
  else if (body && typeof body === "object" && Array.isArray((body as { rows?: unknown }).rows)) rows = (body as { rows: unknown[] }).rows;
  else if (body && typeof body === "object" && !("rows" in body)) rows = [body];
  else throw badInput('send {"rows": [{...}, ...]}, an array of rows, or one row object');
  const list = rows as unknown[];
  if (list.length === 0) throw badInput("no rows to predict: the batch is empty");
  if (list.length > maxRows) throw new OuroError("PAYLOAD_TOO_LARGE", `at most ${maxRows} rows per request; got ${list.length}`);
  return list as Record<string, unknown>[];
}
