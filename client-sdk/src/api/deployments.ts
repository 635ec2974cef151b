import {
  ApproveRolloutDocument,
  BatchPredictDocument,
  DeploymentDocument,
  DeploymentsDocument,
  DeploymentStatsDocument,
  DeploymentStatsNowDocument,
  DeployModelDocument,
  LogLabelsDocument,
  DeleteDeploymentDocument,
  PredictDocument,
  RollbackRolloutDocument,
  SetDeploymentStatusDocument,
  SetTrafficDocument,
  SimulateTrafficDocument,
  StartRolloutDocument,
  type DeployModelInput,
  type SetTrafficInput,
  type SimulateTrafficInput,
  type StartRolloutInput,
} from "../generated/graphql";
import { JobHandle, type SimulateResult, type VersionResult } from "../job-handle";
import { liveStream, type LiveOptions, type LiveStream } from "../live";
import type { Deployment, DeploymentStats, Prediction } from "../types";
import type { ClientContext } from "./context";
import { JobsApi } from "./jobs";

/** What POST /v1/endpoints/{name}/predict answers. */
export interface RestPredictResult {
  requestId: string;
  deploymentId: string;
  revision: number;
  predictions: Prediction[];
}

export type Row = Record<string, unknown>;

/** Ground truth for an earlier prediction, by the prediction's `id`. */
export interface LabelFor {
  requestId: string;
  label: unknown;
}

export class DeploymentsApi {
  private readonly jobs: JobsApi;
  constructor(private readonly ctx: ClientContext) {
    this.jobs = new JobsApi(ctx);
  }

  /** Creates an endpoint serving a model version (or routes of versions and ensembles). */
  async deploy(input: DeployModelInput): Promise<Deployment> {
    const { deployModel } = await this.ctx.http.request(DeployModelDocument, { input });
    return deployModel;
  }

  /** Which versions answer, in what proportion (canary, shadow, A/B, upgrade, rollback); applied without failing a request. */
  async setTraffic(input: SetTrafficInput): Promise<Deployment> {
    const { setTraffic } = await this.ctx.http.request(SetTrafficDocument, { input });
    return setTraffic;
  }

  /** Stops (`false`) or restarts serving. */
  async setActive(id: string, active: boolean): Promise<Deployment> {
    const { setDeploymentStatus } = await this.ctx.http.request(SetDeploymentStatusDocument, { id, active }, { retry: true });
    return setDeploymentStatus;
  }

  /**
   * Deletes a stopped deployment with its monitors and prediction log. Refused (CONFLICT,
   * naming each reason) while it is active or a labelling task, pipeline, job in flight or
   * rollout still needs it. Returns the deployment as it was.
   */
  async delete(id: string): Promise<Deployment> {
    const { deleteDeployment } = await this.ctx.http.request(DeleteDeploymentDocument, { id });
    return deleteDeployment;
  }

  /** A canary rollout of a challenger version and its decisions. */
  readonly rollout = {
    /** Starts a canary; in `auto` mode it is promoted or rolled back once labelled predictions decide. */
    start: async (input: StartRolloutInput): Promise<Deployment> => (await this.ctx.http.request(StartRolloutDocument, { input })).startRollout,
    /** Promotes the challenger (manual mode, or to decide early). */
    approve: async (deploymentId: string): Promise<Deployment> => (await this.ctx.http.request(ApproveRolloutDocument, { deploymentId })).approveRollout,
    rollback: async (deploymentId: string): Promise<Deployment> => (await this.ctx.http.request(RollbackRolloutDocument, { deploymentId })).rollbackRollout,
  };

  /**
   * Predictions over REST (POST /v1/endpoints/{name}/predict), the hot path: one row or many.
   * `endpoint` is a deployment's name or id; pass `projectId` when two of your projects use the
   * name. A row the models cannot take is an OuroInputError whose `details.fields` lists every
   * problem as `{ row, field, reason }`.
   */
  async predict(endpoint: string, rows: Row | Row[], options: { projectId?: string; signal?: AbortSignal } = {}): Promise<RestPredictResult> {
    return this.ctx.http.rest<RestPredictResult>("POST", `/v1/endpoints/${encodeURIComponent(endpoint)}/predict`, {
      query: { projectId: options.projectId },
      body: { json: Array.isArray(rows) ? { rows } : row(rows) },
      signal: options.signal,
    });
  }

  /** The same through the GraphQL `predict` mutation (by deployment id). */
  async predictGraphql(deploymentId: string, rows: Row[]) {
    const { predict } = await this.ctx.http.request(PredictDocument, { deploymentId, rows });
    return predict;
  }

  /**
   * Ground truth for earlier predictions (each prediction's `id` as `requestId`), so monitors
   * and rollouts can measure live accuracy. Resolves with how many were recorded.
   */
  async logLabels(deploymentId: string, labels: LabelFor[]): Promise<number> {
    // Recording a label twice keeps one: safe to resend.
    const { logLabels } = await this.ctx.http.request(LogLabelsDocument, { deploymentId, labels }, { retry: true });
    return logLabels;
  }

  /** Scores a whole dataset version with a model version into a new version of `outputDataset`. */
  async batchPredict(input: { modelVersionId: string; datasetVersionId: string; outputDataset: string }): Promise<JobHandle<VersionResult>> {
    const { batchPredict } = await this.ctx.http.request(BatchPredictDocument, input);
    return new JobHandle<VersionResult>(batchPredict, this.jobs);
  }

  /**
   * Replays a dataset version against the endpoint at `rate` rows/s, optionally drifting the
   * rows (`drift: { shift, scale, categoryMix, flipLabels }`) and sending the true labels back
   * after `labelDelaySeconds`.
   */
  async simulate(input: SimulateTrafficInput): Promise<JobHandle<SimulateResult>> {
    const { simulateTraffic } = await this.ctx.http.request(SimulateTrafficDocument, { input });
    return new JobHandle<SimulateResult>(simulateTraffic, this.jobs);
  }

  /** Throughput, latency and labels over the last `windowSeconds`, now. */
  async statsNow(deploymentId: string, windowSeconds = 60): Promise<DeploymentStats> {
    const { deploymentStatsNow } = await this.ctx.http.request(DeploymentStatsNowDocument, { deploymentId, windowSeconds });
    return deploymentStatsNow;
  }

  /**
   * A live gauge as an async iterator: a sample now, then one every `everySeconds`. Samples
   * are recomputed from the prediction log, so after a reconnect the next sample is complete
   * again (nothing to resume). Never ends by itself: break out of the loop or `close()`.
   */
  stats(deploymentId: string, options: Omit<LiveOptions, "after"> & { everySeconds?: number; windowSeconds?: number } = {}): LiveStream<DeploymentStats> {
    const { everySeconds = 2, windowSeconds = 60, ...live } = options;
    return liveStream(this.ctx.ws, {
      document: DeploymentStatsDocument,
      variables: () => ({ deploymentId, everySeconds, windowSeconds }),
      extract: ({ deploymentStats }) => ({ items: [deploymentStats], cursor: deploymentStats.at }),
    }, live);
  }

  async get(id: string): Promise<Deployment> {
    const { deployment } = await this.ctx.http.request(DeploymentDocument, { id });
    return deployment;
  }

  async list(projectId: string): Promise<Deployment[]> {
    const { deployments } = await this.ctx.http.request(DeploymentsDocument, { projectId });
    return deployments;
  }

  /** A deployment by name in a project, or null. */
  async findByName(projectId: string, name: string): Promise<Deployment | null> {
    return (await this.list(projectId)).find((d) => d.name === name) ?? null;
  }
}

function row(value: Row): Row {
  // The endpoint takes one row object as it is, but a row with a `rows` column would read as a batch.
  return "rows" in value ? { rows: [value] } : value;
}
