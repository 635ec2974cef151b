import { GraphQLJSONObject } from "graphql-scalars";
import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import { Connection } from "../../platform/graphql/connection";
import { CursorScalar } from "../../platform/graphql/scalars";

export enum MonitorKindEnum {
  data_drift = "data_drift",
  prediction_drift = "prediction_drift",
  performance = "performance",
  data_quality = "data_quality",
}
registerEnumType(MonitorKindEnum, { name: "MonitorKind" });

export enum DriftStatusEnum {
  ok = "ok",
  potential_drift = "potential_drift",
  detected = "detected",
  no_data = "no_data",
}
registerEnumType(DriftStatusEnum, { name: "DriftStatus", description: "ok < potential_drift < detected; no_data when the window had nothing to measure." });

export enum AlertStateEnum {
  firing = "firing",
  acknowledged = "acknowledged",
  resolved = "resolved",
}
registerEnumType(AlertStateEnum, { name: "AlertState" });

export enum AlertDirectionEnum {
  above = "above",
  below = "below",
}
registerEnumType(AlertDirectionEnum, { name: "AlertDirection", description: "above: fires when the value is ≥ threshold; below: when ≤ threshold." });

export enum SeverityEnum {
  info = "info",
  warning = "warning",
  critical = "critical",
}
registerEnumType(SeverityEnum, { name: "Severity" });

@InputType()
export class MonitorWindowInput {
  @Field(() => Int, { nullable: true, description: "A window every this many minutes." }) minutes?: number | null;
  @Field(() => Int, { nullable: true, description: "A window every this many (primary) predictions." }) predictions?: number | null;
}

@InputType()
export class QualityLimitsInput {
  @Field(() => Float, { nullable: true, description: "Largest rise of a feature's null rate over the reference's (default 0.1)." }) nullRateIncrease?: number | null;
  @Field(() => Float, { nullable: true, description: "Largest fraction of a feature's values outside the reference min–max (default 0.05)." }) outOfRange?: number | null;
  @Field(() => Float, { nullable: true, description: "Largest fraction of categories the reference never had (default 0.05)." }) unseen?: number | null;
  @Field(() => Float, { nullable: true, description: "Largest fraction of rows breaking the schema (default 0)." }) schemaViolations?: number | null;
}

@InputType()
export class CreateMonitorInput {
  @Field(() => ID) deploymentId: string;
  @Field(() => String) name: string;
  @Field(() => [MonitorKindEnum]) kinds: MonitorKindEnum[];
  @Field(() => MonitorWindowInput) window: MonitorWindowInput;
  @Field(() => ID, { nullable: true, description: "Drift reference; default: the training data of the deployed model version. Needs a profile." }) referenceVersionId?: string | null;
  @Field(() => [String], { nullable: true, description: "Input features to watch; default every reference column but the target." }) features?: string[] | null;
  @Field(() => Float, { nullable: true, description: "Drift score (mean of Hellinger and TVD) from which a feature has potential drift; default 0.5." }) potentialThreshold?: number | null;
  @Field(() => Float, { nullable: true, description: "Drift score from which drift is detected; default 0.7." }) detectedThreshold?: number | null;
  @Field(() => QualityLimitsInput, { nullable: true }) quality?: QualityLimitsInput | null;
  @Field(() => String, { nullable: true, description: "classification or regression; default from the model signature or the predictions." }) task?: string | null;
  @Field(() => String, { nullable: true, description: "Reference column the predictions are compared with (prediction drift); default the model's target." }) target?: string | null;
}

@ObjectType("FeatureDrift")
export class FeatureDriftType {
  @Field(() => String) name: string;
  @Field(() => String, { description: "numeric or categorical" }) kind: string;
  @Field(() => Int, { description: "Values measured in the window." }) count: number;
  @Field(() => Float, { nullable: true, description: "Mean of Hellinger and TVD." }) score: number | null;
  @Field(() => DriftStatusEnum) status: DriftStatusEnum;
  @Field(() => GraphQLJSONObject, { description: "numeric: hellinger, tvd, psi, ks, ksPValue, js; categorical: hellinger, tvd, js, chi2, chi2PValue." }) metrics: Record<string, number | null>;
}

@ObjectType("MonitorResult")
export class MonitorResultType {
  @Field(() => CursorScalar, { description: "Resume monitorUpdates after this result." }) cursor: string;
  @Field(() => ID) monitorId: string;
  @Field(() => String) windowKey: string;
  @Field(() => Date, { nullable: true }) windowStart: Date | null;
  @Field(() => Date, { nullable: true }) windowEnd: Date | null;
  @Field(() => Int) predictions: number;
  @Field(() => DriftStatusEnum) status: DriftStatusEnum;
  @Field(() => Float, { nullable: true, description: "The worst feature's (or the prediction's) drift score." }) driftScore: number | null;
  @Field(() => [FeatureDriftType]) features: FeatureDriftType[];
  @Field(() => FeatureDriftType, { nullable: true }) prediction: FeatureDriftType | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: "task, labelled, accuracy and f1, or rmse and mae." }) performance: Record<string, unknown> | null;
  @Field(() => GraphQLJSONObject, { nullable: true, description: "status, null rates, out-of-range and unseen fractions, schema violations." }) quality: Record<string, unknown> | null;
  @Field(() => Date) evaluatedAt: Date;
}

@ObjectType("MonitorResultPage")
export class MonitorResultPageType {
  @Field(() => [MonitorResultType]) nodes: MonitorResultType[];
  @Field(() => Int) totalCount: number;
  @Field(() => Boolean) hasNextPage: boolean;
  @Field(() => CursorScalar, { nullable: true }) endCursor: string | null;
}

@ObjectType("Monitor")
export class MonitorType {
  @Field(() => ID) id: string;
  @Field(() => ID) projectId: string;
  @Field(() => String) name: string;
  @Field(() => ID, { nullable: true }) deploymentId: string | null;
  @Field(() => [MonitorKindEnum]) kinds: MonitorKindEnum[];
  @Field(() => String) status: string;
  @Field(() => ID, { nullable: true }) referenceVersionId: string | null;
  @Field(() => GraphQLJSONObject, { description: "features, window, thresholds, quality limits, target, task." }) config: Record<string, unknown>;
  @Field(() => Date) createdAt: Date;
}
export const MonitorConnection = Connection(MonitorType, "Monitor");

@InputType()
export class CreateAlertRuleInput {
  @Field(() => ID) monitorId: string;
  @Field(() => String) name: string;
  @Field(() => String, { description: "status (1 potential drift, 2 detected), driftScore, feature:<name>, prediction, performance.accuracy|f1|rmse|mae, quality.schemaViolationRate|maxNullRate|maxNullRateIncrease|maxOutOfRange|maxUnseen." }) metric: string;
  @Field(() => Float) threshold: number;
  @Field(() => AlertDirectionEnum, { nullable: true, description: "Default above." }) direction?: AlertDirectionEnum | null;
  @Field(() => Int, { nullable: true, description: "Consecutive windows the condition must hold; default 1." }) forWindows?: number | null;
  @Field(() => SeverityEnum, { nullable: true }) severity?: SeverityEnum | null;
  @Field(() => String, { nullable: true, description: "POSTed a signed JSON notification on every state change." }) webhookUrl?: string | null;
  @Field(() => String, { nullable: true, description: "HMAC key for the signatures; generated (and shown once) when omitted." }) webhookSecret?: string | null;
}

@ObjectType("AlertRule")
export class AlertRuleType {
  @Field(() => ID) id: string;
  @Field(() => ID) projectId: string;
  @Field(() => ID) monitorId: string;
  @Field(() => String) name: string;
  @Field(() => String) metric: string;
  @Field(() => AlertDirectionEnum) direction: AlertDirectionEnum;
  @Field(() => Float) threshold: number;
  @Field(() => Int) forWindows: number;
  @Field(() => SeverityEnum) severity: SeverityEnum;
  @Field(() => String, { nullable: true }) webhookUrl: string | null;
  @Field(() => Boolean) enabled: boolean;
  @Field(() => Date) createdAt: Date;
}

@ObjectType("AlertRuleCreated")
export class AlertRuleCreatedType {
  @Field(() => AlertRuleType) rule: AlertRuleType;
  @Field(() => String, { nullable: true, description: "The generated webhook secret: shown this once, never again." }) webhookSecret: string | null;
}

@ObjectType("Alert")
export class AlertType {
  @Field(() => ID) id: string;
  @Field(() => ID) projectId: string;
  @Field(() => ID, { nullable: true }) monitorId: string | null;
  @Field(() => ID, { nullable: true }) ruleId: string | null;
  @Field(() => AlertStateEnum) state: AlertStateEnum;
  @Field(() => String) severity: string;
  @Field(() => String) message: string;
  @Field(() => GraphQLJSONObject) details: Record<string, unknown>;
  @Field(() => Date) createdAt: Date;
  @Field(() => Date, { nullable: true }) acknowledgedAt: Date | null;
  @Field(() => ID, { nullable: true }) acknowledgedById: string | null;
  @Field(() => Date, { nullable: true }) resolvedAt: Date | null;
}
export const AlertConnection = Connection(AlertType, "Alert");

@ObjectType("AlertEvent")
export class AlertEventType {
  @Field(() => CursorScalar) cursor: string;
  @Field(() => ID) alertId: string;
  @Field(() => ID, { nullable: true }) ruleId: string | null;
  @Field(() => AlertStateEnum) state: AlertStateEnum;
  @Field(() => ID, { nullable: true, description: "Who changed it (none when Ouro did)." }) actorId: string | null;
  @Field(() => GraphQLJSONObject) data: Record<string, unknown>;
  @Field(() => Date) at: Date;
}
