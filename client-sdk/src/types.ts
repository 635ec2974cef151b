import type {
  AlertEventFieldsFragment,
  AlertFieldsFragment,
  AlertRuleFieldsFragment,
  ApiTokenFieldsFragment,
  AuditEventFieldsFragment,
  DatasetFieldsFragment,
  DatasetPreviewQuery,
  DatasetVersionFieldsFragment,
  DatasetsQuery,
  DeploymentFieldsFragment,
  DeploymentStatsFieldsFragment,
  ExperimentsQuery,
  FeatureSetFieldsFragment,
  JobFieldsFragment,
  JobQuery,
  LineageQuery,
  ModelAliasFieldsFragment,
  ModelQuery,
  ModelVersionFieldsFragment,
  ModelsQuery,
  MonitorFieldsFragment,
  MonitorResultFieldsFragment,
  OnlineFeaturesQuery,
  PipelineFieldsFragment,
  PipelineRunFieldsFragment,
  PredictMutation,
  ProjectFieldsFragment,
  RecipeFieldsFragment,
  RunFieldsFragment,
  RunMetricsSubscription,
  RunQuery,
  ViewerQuery,
} from "./generated/graphql";

/** Friendly names for the generated result types. */
export type Project = ProjectFieldsFragment;
export type Run = RunFieldsFragment;
/** A run with its params, downsampled metric series and artifacts. */
export type RunDetails = RunQuery["run"];
export type MetricSeries = RunDetails["metrics"][number];
export type Experiment = ExperimentsQuery["experiments"]["nodes"][number];
export type Job = JobFieldsFragment;
export type JobWithLogs = JobQuery["job"];
export type AuditEvent = AuditEventFieldsFragment;
export type ApiToken = ApiTokenFieldsFragment;
export type User = ViewerQuery["viewer"];
export type MetricBatch = RunMetricsSubscription["runMetrics"];
export type MetricPoint = MetricBatch["points"][number];

/** One page of a connection; pass `pageInfo.endCursor` as `after` for the next. */
export interface Page<T> {
  nodes: T[];
  totalCount: number;
  pageInfo: { endCursor: string | null; hasNextPage: boolean };
}

export interface PageArgs {
  first?: number;
  after?: string | null;
}

export const TERMINAL_JOB_STATUSES: ReadonlySet<string> = new Set(["succeeded", "failed", "cancelled"]);


export type Dataset = DatasetFieldsFragment;
/** A dataset with its latest version (null before the first ingest finished). */
export type DatasetWithLatest = DatasetsQuery["datasets"]["nodes"][number];
export type DatasetVersion = DatasetVersionFieldsFragment;
export type DataPreview = DatasetPreviewQuery["datasetVersion"]["preview"];
export type Recipe = RecipeFieldsFragment;
export type FeatureSet = FeatureSetFieldsFragment;
export type OnlineFeatureRow = OnlineFeaturesQuery["onlineFeatures"][number];
export type ModelVersion = ModelVersionFieldsFragment;
export type ModelAlias = ModelAliasFieldsFragment;
export type ModelSummary = ModelsQuery["models"]["nodes"][number];
/** A model with its versions and aliases. */
export type Model = ModelQuery["model"];
export type Lineage = LineageQuery["lineage"];
export type Deployment = DeploymentFieldsFragment;
export type DeploymentStats = DeploymentStatsFieldsFragment;
export type PredictResult = PredictMutation["predict"];
export type Prediction = PredictResult["predictions"][number];
export type Monitor = MonitorFieldsFragment;
/** One evaluated window: per-feature drift, prediction drift, performance and quality. */
export type MonitorResult = MonitorResultFieldsFragment;
export type AlertRule = AlertRuleFieldsFragment;
export type Alert = AlertFieldsFragment;
export type AlertEvent = AlertEventFieldsFragment;
export type Pipeline = PipelineFieldsFragment;
export type PipelineRun = PipelineRunFieldsFragment;
