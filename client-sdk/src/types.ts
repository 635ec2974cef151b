import type {
  ApiTokenFieldsFragment,
  AuditEventFieldsFragment,
  ExperimentsQuery,
  JobFieldsFragment,
  JobQuery,
  ProjectFieldsFragment,
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
