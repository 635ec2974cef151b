/**
 * @ouro/client-sdk: a typed client for Ouro's GraphQL API, for Node 22+ and browsers.
 * The core path imports nothing Node-specific; Node's exit hook is reached through a check.
 */
export { OuroClient, type OuroClientOptions } from "./client";
export { RunHandle, MAX_POINTS_PER_REQUEST, type RunHandleOptions, type RunStats, type ParamValue } from "./run-handle";
export { LiveStream, type LiveOptions, type WebSocketConstructor } from "./live";
export { OuroError, OuroApiError, OuroNetworkError, OuroJobError, isRetryable, type OuroErrorCode, type ServerErrorEntry } from "./errors";
export type { FetchLike, RequestOptions } from "./http";
export type { ProjectsApi } from "./api/projects";
export type { RunsApi, StartRunOptions, MetricStreamOptions } from "./api/runs";
export type { JobsApi, CancelJobOutcome, WaitOptions } from "./api/jobs";
export type { AuditApi } from "./api/audit";
export type { TokensApi } from "./api/tokens";
export * from "./types";
/** Every generated document and result type, for `client.request` and your own code. */
export * as documents from "./generated/graphql";
export type { JobStatus, Role, RunEndStatus, RunStatus, MetricInput, ParamInput } from "./generated/graphql";
