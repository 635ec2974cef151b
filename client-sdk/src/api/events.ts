import { CreateEventFeatureSetDocument, IngestEventsDocument, MaterializeEventFeaturesDocument, type CreateEventFeatureSetInput, type IngestEventsMutation } from "../generated/graphql";
import { JobHandle, type MaterializeResult } from "../job-handle";
import type { ClientContext } from "./context";
import { JobsApi } from "./jobs";

export type IngestEventsResult = IngestEventsMutation["ingestEvents"];

export class EventsApi {
  private readonly jobs: JobsApi;
  constructor(private readonly ctx: ClientContext) {
    this.jobs = new JobsApi(ctx);
  }

  /** A feature set fed by events, with sliding-window aggregations kept fresh in the online store. */
  async createSource(input: CreateEventFeatureSetInput) {
    const { createEventFeatureSet } = await this.ctx.http.request(CreateEventFeatureSetDocument, { input });
    return createEventFeatureSet;
  }

  /**
   * Sends a batch of events over REST (POST /v1/events/{featureSetId}), the fast path. Bad
   * events come back in `rejected` with reasons; good ones are kept. Events carry their own
   * ids, so a resent batch is counted as `duplicates`: this call is retried on network errors
   * and on RATE_LIMITED (the server at capacity applies nothing of that batch).
   */
  async send(featureSetId: string, events: Record<string, unknown>[], options: { signal?: AbortSignal } = {}): Promise<IngestEventsResult> {
    return this.ctx.http.rest<IngestEventsResult>("POST", `/v1/events/${encodeURIComponent(featureSetId)}`, { body: { json: events }, retry: true, signal: options.signal });
  }

  /** The same through the GraphQL `ingestEvents` mutation. */
  async ingest(featureSetId: string, events: Record<string, unknown>[]): Promise<IngestEventsResult> {
    const { ingestEvents } = await this.ctx.http.request(IngestEventsDocument, { featureSetId, events }, { retry: true });
    return ingestEvents;
  }

  /** Recomputes the window aggregations over the whole event history into the offline store (for buildTrainingSet). */
  async materialize(featureSetId: string): Promise<JobHandle<MaterializeResult>> {
    const { materializeEventFeatures } = await this.ctx.http.request(MaterializeEventFeaturesDocument, { featureSetId });
    return new JobHandle<MaterializeResult>(materializeEventFeatures, this.jobs);
  }
}
