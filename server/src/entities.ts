import { AuditEventEntity } from "./domains/audit/audit-event.entity";
import { DatasetVersionEntity } from "./domains/datasets/dataset-version.entity";
import { DatasetEntity } from "./domains/datasets/dataset.entity";
import { FeatureSetEntity } from "./domains/features/feature-set.entity";
import { OnlineFeatureEntity } from "./domains/features/online-feature.entity";
import { EventEntity, EventIdEntity, EventSourceEntity } from "./domains/events/event.entity";
import { EventStreamEntity, EventStreamRejectionEntity } from "./domains/events/nats.entity";
import { RecipeEntity } from "./domains/recipes/recipe.entity";
import { DeploymentEntity } from "./domains/deployments/deployment.entity";
import { JobLogEntity } from "./domains/jobs/job-log.entity";
import { JobEntity } from "./domains/jobs/job.entity";
import { LabelEntity, LabellingClaimEntity, LabellingItemEntity } from "./domains/labelling/labelling-item.entity";
import { LabellingTaskEntity } from "./domains/labelling/labelling-task.entity";
import { ModelAliasEntity } from "./domains/models/model-alias.entity";
import { ModelVersionEntity } from "./domains/models/model-version.entity";
import { ModelEntity } from "./domains/models/model.entity";
import { AlertEntity } from "./domains/monitors/alert.entity";
import { MonitorEntity } from "./domains/monitors/monitor.entity";
import { MonitorResultEntity } from "./domains/monitors/monitor-result.entity";
import { AlertRuleEntity } from "./domains/monitors/alert-rule.entity";
import { AlertEventEntity } from "./domains/monitors/alert-event.entity";
import { PipelineRunEntity, PipelineRunStepEntity } from "./domains/pipelines/pipeline-run.entity";
import { PipelineEntity } from "./domains/pipelines/pipeline.entity";
import { MembershipEntity } from "./domains/projects/membership.entity";
import { ProjectEntity } from "./domains/projects/project.entity";
import { ArtifactEntity } from "./domains/runs/artifact.entity";
import { ExperimentEntity } from "./domains/runs/experiment.entity";
import { MetricPointEntity } from "./domains/runs/metric-point.entity";
import { ParamEntity } from "./domains/runs/param.entity";
import { RunEntity } from "./domains/runs/run.entity";
import { ApiTokenEntity } from "./domains/users/api-token.entity";
import { UserEntity } from "./domains/users/user.entity";

/** Every table Ouro maps; the schema test checks each against the migrated database. */
export const ENTITIES = [
  UserEntity,
  ApiTokenEntity,
  ProjectEntity,
  MembershipEntity,
  DatasetEntity,
  DatasetVersionEntity,
  RecipeEntity,
  FeatureSetEntity,
  OnlineFeatureEntity,
  EventSourceEntity,
  EventEntity,
  EventIdEntity,
  EventStreamEntity,
  EventStreamRejectionEntity,
  ExperimentEntity,
  RunEntity,
  ParamEntity,
  MetricPointEntity,
  ArtifactEntity,
  ModelEntity,
  ModelVersionEntity,
  ModelAliasEntity,
  DeploymentEntity,
  MonitorEntity,
  AlertEntity,
  MonitorResultEntity,
  AlertRuleEntity,
  AlertEventEntity,
  PipelineEntity,
  PipelineRunEntity,
  PipelineRunStepEntity,
  JobEntity,
  JobLogEntity,
  AuditEventEntity,
  LabellingTaskEntity,
  LabellingItemEntity,
  LabelEntity,
  LabellingClaimEntity,
];
