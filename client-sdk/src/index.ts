/**
 * @ouro/client-sdk: a typed client for Ouro's GraphQL API, for Node 22+ and browsers.
 * The core path imports nothing Node-specific; Node's exit hook is reached through a check.
 */
export { OuroClient, type OuroClientOptions } from "./client";
export { RunHandle, MAX_POINTS_PER_REQUEST, type RunHandleOptions, type RunStats, type ParamValue } from "./run-handle";
export { LiveStream, type LiveOptions, type WebSocketConstructor } from "./live";
export {
  OuroError,
  OuroApiError,
  OuroAuthError,
  OuroForbiddenError,
  OuroNotFoundError,
  OuroInputError,
  OuroConflictError,
  OuroNetworkError,
  OuroJobError,
  isRetryable,
  type OuroErrorCode,
  type ServerErrorEntry,
} from "./errors";
export { JobHandle, type TypedJob, type VersionResult, type ProfileResult, type FitResult, type MaterializeResult, type TrainResult, type EvaluateResult, type SearchResult, type SearchTrial, type SimulateResult } from "./job-handle";
export type { FetchLike, RequestOptions } from "./http";
export type { ProjectsApi } from "./api/projects";
export type { RunsApi, StartRunOptions, MetricStreamOptions } from "./api/runs";
export type { JobsApi, CancelJobOutcome, WaitOptions } from "./api/jobs";
export type { AuditApi } from "./api/audit";
export type { TokensApi } from "./api/tokens";
export type { DatasetsApi, UploadData, UploadedFile, UploadOptions, IngestOptions } from "./api/datasets";
export type { RecipesApi, RecipeStep } from "./api/recipes";
export type { FeatureSetsApi } from "./api/features";
export type { ModelsApi, TrainingJob } from "./api/models";
export type { DeploymentsApi, RestPredictResult, Row, LabelFor } from "./api/deployments";
export type { MonitorsApi, AlertsApi } from "./api/monitors";
export type { PipelinesApi, PipelineSpec } from "./api/pipelines";
export type { EventsApi, IngestEventsResult } from "./api/events";
export type { LabellingApi, LabellingTask, LabellingProgress, LabellingItem, Label } from "./api/labelling";
export * from "./types";
/** Every generated document and result type, for `client.request` and your own code. */
export * as documents from "./generated/graphql";
export type {
  JobStatus,
  Role,
  RunEndStatus,
  RunStatus,
  MetricInput,
  ParamInput,
  TrainModelInput,
  SearchInput,
  DimensionInput,
  DeployModelInput,
  SetTrafficInput,
  RouteInput,
  StartRolloutInput,
  SimulateTrafficInput,
  DriftInput,
  CreateFeatureSetInput,
  ExpectationInput,
  FormatInput,
  IngestSourceInput,
  ModelCardInput,
  ModelTask,
  CreateMonitorInput,
  MonitorKind,
  CreateAlertRuleInput,
  AlertState,
  DriftStatus,
  UpdatePipelineInput,
  CreateEventFeatureSetInput,
  CreateLabellingTaskInput,
  LabelValueInput,
} from "./generated/graphql";
