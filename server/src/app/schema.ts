import { GraphQLSchema, lexicographicSortSchema, printSchema } from "graphql";
import { buildSchema } from "type-graphql";
import { AuditResolver } from "../domains/audit/audit.resolver";
import { DeploymentResolver } from "../domains/deployments/deployment.resolver";
import { DatasetFieldsResolver, DatasetResolver } from "../domains/datasets/dataset.resolver";
import { FeatureSetResolver } from "../domains/features/feature-set.resolver";
import { EventResolver } from "../domains/events/event.resolver";
import { EventSourceStreamResolver, EventStreamResolver } from "../domains/events/nats.resolver";
import { JobResolver } from "../domains/jobs/job.resolver";
import { LabellingResolver } from "../domains/labelling/labelling.resolver";
import { LineageResolver } from "../domains/lineage/lineage.resolver";
import { AlertResolver, MonitorAlertRulesResolver } from "../domains/monitors/alert.resolver";
import { MonitorResolver } from "../domains/monitors/monitor.resolver";
import { ModelResolver } from "../domains/models/model.resolver";
import { SearchResolver, TrainResolver } from "../domains/models/train.resolver";
import { PipelineResolver, PipelineRunResolver } from "../domains/pipelines/pipeline.resolver";
import { ProjectResolver } from "../domains/projects/project.resolver";
import { RecipeResolver } from "../domains/recipes/recipe.resolver";
import { RunResolver } from "../domains/runs/run.resolver";
import { UserResolver } from "../domains/users/user.resolver";

let built: Promise<GraphQLSchema> | undefined;

/** The one schema, built once per process. */
export function ouroSchema(): Promise<GraphQLSchema> {
  built ??= buildSchema({
    resolvers: [UserResolver, ProjectResolver, JobResolver, RunResolver, AuditResolver, DatasetResolver, DatasetFieldsResolver, RecipeResolver, FeatureSetResolver, EventResolver, EventSourceStreamResolver, EventStreamResolver, ModelResolver, TrainResolver, SearchResolver, LineageResolver, LabellingResolver, DeploymentResolver, PipelineResolver, PipelineRunResolver, MonitorResolver, MonitorAlertRulesResolver, AlertResolver],
    validate: false,
    // Required by type-graphql once subscriptions exist, but unused: every subscription brings
    // its own resumable event source (platform/live.ts).
    pubSub: { publish: () => undefined, subscribe: () => { throw new Error("unused"); } } as never,
  });
  return built;
}

/** schema.graphql as committed: sorted, so the file only changes when the API does. */
export async function printOuroSchema(): Promise<string> {
  return printSchema(lexicographicSortSchema(await ouroSchema())) + "\n";
}
