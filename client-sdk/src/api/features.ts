import {
  BuildTrainingSetDocument,
  CreateFeatureSetDocument,
  DeleteFeatureSetDocument,
  FeatureSetDocument,
  FeatureSetsDocument,
  MaterializeFeatureSetDocument,
  OnlineFeaturesDocument,
  type CreateFeatureSetInput,
} from "../generated/graphql";
import { JobHandle, type MaterializeResult, type VersionResult } from "../job-handle";
import type { FeatureSet, OnlineFeatureRow, Page, PageArgs } from "../types";
import type { ClientContext } from "./context";
import { JobsApi } from "./jobs";

export class FeatureSetsApi {
  private readonly jobs: JobsApi;
  constructor(private readonly ctx: ClientContext) {
    this.jobs = new JobsApi(ctx);
  }

  /** A feature set over a dataset (optionally through a fitted recipe), keyed by `entityKeys`. */
  async create(input: CreateFeatureSetInput): Promise<FeatureSet> {
    const { createFeatureSet } = await this.ctx.http.request(CreateFeatureSetDocument, { input });
    return createFeatureSet;
  }

  /** Computes the features into the offline store (a new version) and the latest values per entity into the online store. */
  async materialize(featureSetId: string, sourceVersionId?: string): Promise<JobHandle<MaterializeResult>> {
    const { materializeFeatureSet } = await this.ctx.http.request(MaterializeFeatureSetDocument, { featureSetId, sourceVersionId });
    return new JobHandle<MaterializeResult>(materializeFeatureSet, this.jobs);
  }

  /**
   * Joins feature sets onto a spine version as of each row's `spineTime` column (never a
   * value from later) into a new version of `outputDataset`.
   */
  async buildTrainingSet(input: { featureSetIds: string[]; spineVersionId: string; spineTime: string; outputDataset: string }): Promise<JobHandle<VersionResult>> {
    const { buildTrainingSet } = await this.ctx.http.request(BuildTrainingSetDocument, input);
    return new JobHandle<VersionResult>(buildTrainingSet, this.jobs);
  }

  /** The latest values per entity key from the online store, one row per key asked, in order. */
  async online(featureSetId: string, keys: string[]): Promise<OnlineFeatureRow[]> {
    const { onlineFeatures } = await this.ctx.http.request(OnlineFeaturesDocument, { featureSetId, keys });
    return onlineFeatures;
  }

  /**
   * Deletes the feature set and its online values; refused (a CONFLICT naming them) while a
   * deployment, pipeline, run, job or stream still uses it. Offline versions are kept.
   * Returns the feature set as it was.
   */
  async delete(id: string): Promise<FeatureSet> {
    const { deleteFeatureSet } = await this.ctx.http.request(DeleteFeatureSetDocument, { id });
    return deleteFeatureSet;
  }

  async get(id: string): Promise<FeatureSet> {
    const { featureSet } = await this.ctx.http.request(FeatureSetDocument, { id });
    return featureSet;
  }

  async list(projectId: string, page: PageArgs = {}): Promise<Page<FeatureSet>> {
    const { featureSets } = await this.ctx.http.request(FeatureSetsDocument, { projectId, first: page.first, after: page.after });
    return featureSets;
  }
}
