import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { AuditApi } from "./api/audit";
import { DatasetsApi } from "./api/datasets";
import { DeploymentsApi } from "./api/deployments";
import { EventsApi } from "./api/events";
import { LabellingApi } from "./api/labelling";
import { AlertsApi, MonitorsApi } from "./api/monitors";
import { PipelinesApi } from "./api/pipelines";
import { FeatureSetsApi } from "./api/features";
import { ModelsApi } from "./api/models";
import { RecipesApi } from "./api/recipes";
import type { ClientContext } from "./api/context";
import { JobsApi } from "./api/jobs";
import { ProjectsApi } from "./api/projects";
import { RunsApi } from "./api/runs";
import { TokensApi } from "./api/tokens";
import { onBeforeExit } from "./exit-hook";
import { ViewerDocument } from "./generated/graphql";
import { HttpTransport, type FetchLike, type RequestOptions } from "./http";
import { WsConnection, type WebSocketConstructor } from "./live";
import type { RunHandle, RunHandleOptions } from "./run-handle";
import type { User } from "./types";

export interface OuroClientOptions {
  /** The GraphQL endpoint, e.g. http://127.0.0.1:4000/graphql. */
  url: string;
  /** An API token (`ouro_…`). */
  token: string;
  /** WebSocket endpoint for subscriptions; defaults to `url` with http(s) → ws(s). */
  wsUrl?: string;
  /** A WHATWG fetch; defaults to the global one (Node 22+, browsers). */
  fetch?: FetchLike;
  /** A WHATWG-style WebSocket class; defaults to the global one (Node 22+, browsers). */
  webSocketImpl?: WebSocketConstructor;
  /** Per HTTP request, in ms. Default 60,000. */
  timeoutMs?: number;
  /** Retries of idempotent HTTP requests. Default 5. */
  maxRetries?: number;
  /** Extra headers for every HTTP request. */
  headers?: Record<string, string>;
  /** WebSocket keep-alive ping interval (ms); 0 disables. Default 15,000. */
  keepAliveMs?: number;
  /** Defaults for every RunHandle this client starts. */
  runs?: RunHandleOptions;
}

/**
 * Ouro's typed client. Queries and mutations go over HTTP; live streams share one
 * WebSocket, opened when the first stream starts and closed when the last one ends.
 *
 * ```ts
 * const ouro = new OuroClient({ url: "http://127.0.0.1:4000/graphql", token });
 * const project = await ouro.projects.create({ name: "demo" });
 * const run = await ouro.runs.start(project.id, "baseline");
 * for (let i = 0; i < 100; i++) run.logMetric("loss", 1 / (i + 1));
 * await run.finish();
 * ```
 */
export class OuroClient {
  readonly projects: ProjectsApi;
  readonly runs: RunsApi;
  readonly jobs: JobsApi;
  readonly audit: AuditApi;
  readonly tokens: TokensApi;
  readonly datasets: DatasetsApi;
  readonly recipes: RecipesApi;
  readonly featureSets: FeatureSetsApi;
  readonly models: ModelsApi;
  readonly deployments: DeploymentsApi;
  readonly monitors: MonitorsApi;
  readonly alerts: AlertsApi;
  readonly pipelines: PipelinesApi;
  readonly events: EventsApi;
  readonly labelling: LabellingApi;
  private readonly http: HttpTransport;
  private readonly ws: WsConnection;
  private readonly openRuns = new Set<RunHandle>();
  private readonly flushedAtExit = new WeakSet<RunHandle>();
  private unhookExit: (() => void) | null = null;

  constructor(options: OuroClientOptions) {
    if (!options.url) throw new TypeError("OuroClient: `url` is required");
    if (!options.token) throw new TypeError("OuroClient: `token` is required");
    this.http = new HttpTransport({ url: options.url, token: options.token, fetch: options.fetch, timeoutMs: options.timeoutMs, maxRetries: options.maxRetries, headers: options.headers });
    this.ws = new WsConnection({
      url: options.wsUrl ?? options.url.replace(/^http/i, "ws"),
      token: options.token,
      webSocketImpl: options.webSocketImpl,
      keepAliveMs: options.keepAliveMs,
    });
    const ctx: ClientContext = {
      http: this.http,
      ws: this.ws,
      runDefaults: options.runs ?? {},
      trackRun: (handle) => this.trackRun(handle),
      untrackRun: (handle) => this.untrackRun(handle),
    };
    this.projects = new ProjectsApi(ctx);
    this.runs = new RunsApi(ctx);
    this.jobs = new JobsApi(ctx);
    this.audit = new AuditApi(ctx);
    this.tokens = new TokensApi(ctx);
    this.datasets = new DatasetsApi(ctx);
    this.recipes = new RecipesApi(ctx);
    this.featureSets = new FeatureSetsApi(ctx);
    this.models = new ModelsApi(ctx);
    this.deployments = new DeploymentsApi(ctx);
    this.monitors = new MonitorsApi(ctx);
    this.alerts = new AlertsApi(ctx);
    this.pipelines = new PipelinesApi(ctx);
    this.events = new EventsApi(ctx);
    this.labelling = new LabellingApi(ctx);
  }

  /**
   * The bytes of an artifact (a model file, an evaluation, an export) from GET /v1/artifacts/{id},
   * as a Response whose body you read as you like (`.json()`, `.arrayBuffer()`, `.body`).
   */
  downloadArtifact(id: string, options: { signal?: AbortSignal } = {}): Promise<Response> {
    return this.http.rest("GET", `/v1/artifacts/${encodeURIComponent(id)}`, { raw: true, retry: true, signal: options.signal, timeoutMs: 10 * 60_000 });
  }

  /** The user the token belongs to; a cheap way to check the URL and token. */
  async viewer(): Promise<User> {
    const { viewer } = await this.http.request(ViewerDocument, {});
    return viewer;
  }

  /** Any operation, typed by its document (e.g. one generated from your own .graphql file). */
  request<TResult, TVariables extends Record<string, unknown>>(document: TypedDocumentNode<TResult, TVariables>, variables: TVariables, options?: RequestOptions): Promise<TResult> {
    return this.http.request(document, variables, options);
  }

  /** Sends what open runs have queued, then closes the WebSocket. Runs are not finished. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.openRuns].map((h) => h.flush()));
    this.unhookExit?.();
    this.unhookExit = null;
    await this.ws.close();
  }

  private trackRun(handle: RunHandle): void {
    this.openRuns.add(handle);
    this.unhookExit ??= onBeforeExit(() => this.flushAtExit());
  }

  private untrackRun(handle: RunHandle): void {
    this.openRuns.delete(handle);
    if (this.openRuns.size === 0) {
      this.unhookExit?.();
      this.unhookExit = null;
    }
  }

  /** Node's beforeExit: send queued points, once per run (so a dead server cannot keep the process alive forever). */
  private flushAtExit(): void {
    for (const handle of this.openRuns) {
      if (handle.stats.pending === 0 || this.flushedAtExit.has(handle)) continue;
      this.flushedAtExit.add(handle);
      void handle.flushQuietly();
    }
  }
}
