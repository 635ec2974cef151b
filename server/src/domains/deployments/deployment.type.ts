import { GraphQLJSON, GraphQLJSONObject } from "graphql-scalars";
import { Field, Float, ID, InputType, Int, ObjectType } from "type-graphql";

@ObjectType("ServingRoute", { description: "A routable target: one model version, or an ensemble of several." })
export class RouteType {
  @Field(() => String) name: string;
  @Field(() => [ID]) modelVersionIds: string[];
  @Field(() => String, { description: "mean | vote (ensembles)" }) combine: string;
  @Field(() => Float, { description: "Share of traffic relative to the other routes' weights; 0 for shadow routes." }) weight: number;
}

@ObjectType("OnlineEnrichment")
export class EnrichType {
  @Field(() => ID) featureSetId: string;
  @Field(() => String) entityColumn: string;
  @Field(() => [String], { nullable: true }) features: string[] | null;
}

@ObjectType("MicroBatching")
export class MicroBatchType {
  @Field(() => Float) windowMs: number;
  @Field(() => Int) maxBatch: number;
}

@ObjectType("RolloutVerdict")
export class RolloutVerdictType {
  @Field(() => String, { description: "accuracy (classification) or rmse (regression)" }) metric: string;
  @Field(() => Float) champion: number;
  @Field(() => Float) challenger: number;
  @Field(() => Int) championLabels: number;
  @Field(() => Int) challengerLabels: number;
  @Field(() => Boolean, { description: "The challenger is at least as good." }) better: boolean;
}

@ObjectType("Rollout", { description: "A canary: the challenger route takes canaryWeight of the traffic until the labels decide." })
export class RolloutType {
  @Field(() => String, { description: "running | awaitingApproval | promoted | rolledBack" }) status: string;
  @Field(() => String) mode: string;
  @Field(() => Float) canaryWeight: number;
  @Field(() => Int) minLabels: number;
  @Field(() => Date) startedAt: Date;
  @Field(() => RolloutVerdictType, { nullable: true }) verdict: RolloutVerdictType | null;
  @Field(() => String, { nullable: true }) reason: string | null;
}

@ObjectType("Deployment")
export class DeploymentType {
  @Field(() => ID) id: string;
  @Field(() => ID) projectId: string;
  @Field(() => String) name: string;
  @Field(() => String, { description: "active | stopped" }) status: string;
  @Field(() => Int, { description: "Bumped by every traffic or status change." }) revision: number;
  @Field(() => [RouteType]) routes: RouteType[];
  @Field(() => [RouteType], { description: "Mirrored routes: scored and logged, never returned." }) shadow: RouteType[];
  @Field(() => String, { nullable: true, description: "Input column hashed to pick a route (sticky A/B)." }) stickyKey: string | null;
  @Field(() => EnrichType, { nullable: true }) enrich: EnrichType | null;
  @Field(() => Float, { nullable: true }) threshold: number | null;
  @Field(() => MicroBatchType, { nullable: true }) microBatch: MicroBatchType | null;
  @Field(() => String, { description: "REST path of the predict endpoint." }) endpoint: string;
  @Field(() => RolloutType, { nullable: true, description: "The latest canary rollout, if any." }) rollout: RolloutType | null;
  @Field(() => Date) createdAt: Date;
  @Field(() => Date) updatedAt: Date;
}

@InputType("RouteInput")
export class RouteInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => [ID]) modelVersionIds: string[];
  @Field(() => String, { nullable: true, description: "mean (default) | vote" }) combine?: string | null;
  @Field(() => Float, { nullable: true, description: "Default 1." }) weight?: number | null;
}

@InputType("EnrichInput")
export class EnrichInput {
  @Field(() => ID) featureSetId: string;
  @Field(() => String, { description: "The request column holding the entity key." }) entityColumn: string;
  @Field(() => [String], { nullable: true, description: "Which features to add (default: every model input the feature set has)." }) features?: string[] | null;
}

@InputType("MicroBatchInput")
export class MicroBatchInput {
  @Field(() => Float, { nullable: true, description: "Longest wait for more rows (ms). Default 0: what arrives in the same event-loop turn." }) windowMs?: number | null;
  @Field(() => Int, { nullable: true, description: "Default 64 rows." }) maxBatch?: number | null;
}

@InputType("DeployModelInput")
export class DeployModelInput {
  @Field(() => ID) projectId: string;
  @Field(() => String, { description: "Part of the URL: /v1/endpoints/{name}/predict" }) name: string;
  @Field(() => ID, { nullable: true, description: "One route with this version (or give routes)." }) modelVersionId?: string | null;
  @Field(() => [RouteInput], { nullable: true }) routes?: RouteInput[] | null;
  @Field(() => [RouteInput], { nullable: true }) shadow?: RouteInput[] | null;
  @Field(() => String, { nullable: true }) stickyKey?: string | null;
  @Field(() => EnrichInput, { nullable: true }) enrich?: EnrichInput | null;
  @Field(() => Float, { nullable: true, description: "Binary models: positive class from this probability (default 0.5)." }) threshold?: number | null;
  @Field(() => MicroBatchInput, { nullable: true, description: "Coalesce concurrent requests into one model call." }) microBatch?: MicroBatchInput | null;
}

@InputType("SetTrafficInput")
export class SetTrafficInput {
  @Field(() => ID) deploymentId: string;
  @Field(() => [RouteInput]) routes: RouteInput[];
  @Field(() => [RouteInput], { nullable: true }) shadow?: RouteInput[] | null;
  @Field(() => String, { nullable: true }) stickyKey?: string | null;
}

@ObjectType("Prediction")
export class PredictionType {
  @Field(() => ID, { description: "This row's request id: what logLabels takes." }) id: string;
  @Field(() => String, { nullable: true }) label?: string;
  @Field(() => GraphQLJSONObject, { nullable: true, description: "Probability per class." }) probabilities?: Record<string, number>;
  @Field(() => Float, { nullable: true, description: "Regression output." }) value?: number;
  @Field(() => String) route: string;
  @Field(() => ID) modelVersionId: string;
  @Field(() => String) model: string;
  @Field(() => Int) version: number;
}

@ObjectType("PredictResult")
export class PredictResultType {
  @Field(() => ID) requestId: string;
  @Field(() => Int) revision: number;
  @Field(() => [PredictionType]) predictions: PredictionType[];
}

@InputType("LabelInput")
export class LabelInput {
  @Field(() => ID) requestId: string;
  @Field(() => GraphQLJSON, { description: "The true class (string) or value (number)." }) label: unknown;
}

@InputType("DriftInput", { description: "What the simulated world does differently from the dataset." })
export class DriftInput {
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Added to numeric columns: {"temp_max": 5}' }) shift?: Record<string, number> | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'Multiplies numeric columns: {"precipitation": 2}' }) scale?: Record<string, number> | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: 'New category mix per column: {"weather": {"rain": 0.8, "sun": 0.2}}' }) categoryMix?: Record<string, Record<string, number>> | null;
  @Field(() => Float, { nullable: true, description: "Fraction of labels flipped to another class." }) flipLabels?: number | null;
}

@InputType("SimulateTrafficInput")
export class SimulateTrafficInput {
  @Field(() => ID) deploymentId: string;
  @Field(() => ID, { description: "Rows are replayed in order (wrapping around)." }) datasetVersionId: string;
  @Field(() => Int, { description: "Rows to send." }) rows: number;
  @Field(() => Float, { description: "Rows per second." }) rate: number;
  @Field(() => Int, { nullable: true, description: "Rows per request (default 1)." }) batchSize?: number | null;
  @Field(() => String, { nullable: true, description: "Column holding the true label: removed from requests, sent back with logLabels." }) labelColumn?: string | null;
  @Field(() => Float, { nullable: true, description: "Seconds between a prediction and its label (default 0)." }) labelDelaySeconds?: number | null;
  @Field(() => DriftInput, { nullable: true }) drift?: DriftInput | null;
  @Field(() => Int, { nullable: true }) seed?: number | null;
}

@ObjectType("RouteStats")
export class RouteStatsType {
  @Field(() => ID) modelVersionId: string;
  @Field(() => String, { description: "primary | shadow" }) role: string;
  @Field(() => Int) rows: number;
  @Field(() => Float, { nullable: true }) p50Ms: number | null;
}

@ObjectType("DeploymentStats", { description: "The last window of the prediction log, sampled every few seconds." })
export class DeploymentStatsType {
  @Field(() => Date) at: Date;
  @Field(() => Int) windowSeconds: number;
  @Field(() => Int, { description: "Rows answered (primary) in the window." }) rows: number;
  @Field(() => Float) rowsPerSecond: number;
  @Field(() => Float, { nullable: true }) p50Ms: number | null;
  @Field(() => Float, { nullable: true }) p99Ms: number | null;
  @Field(() => Int, { description: "Of those rows, how many have a label so far." }) labelled: number;
  @Field(() => [RouteStatsType]) routes: RouteStatsType[];
}

@InputType("StartRolloutInput")
export class StartRolloutInput {
  @Field(() => ID) deploymentId: string;
  @Field(() => ID) challengerVersionId: string;
  @Field(() => Float, { nullable: true, description: "Share of traffic for the challenger (default 0.1)." }) canaryWeight?: number | null;
  @Field(() => Int, { nullable: true, description: "Labelled predictions each side needs before the verdict (default 100)." }) minLabels?: number | null;
  @Field(() => String, { nullable: true, description: "auto (default): promote or roll back by the metrics; manual: wait for approveRollout." }) mode?: string | null;
}
