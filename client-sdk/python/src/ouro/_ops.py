"""Every GraphQL operation the client sends. `...XFields` spreads the generated fragment of type X.

tests/test_generated.py validates each one against schema.graphql, so a schema change that
breaks one of them fails CI.
"""

from __future__ import annotations

import re

from ._generated import FRAGMENTS

_SPREAD = re.compile(r"\.\.\.(\w+)Fields\b")


def op(text: str) -> str:
    """The operation with the definitions of the fragments it spreads appended."""
    names = sorted(set(_SPREAD.findall(text)))
    missing = [n for n in names if n not in FRAGMENTS]
    if missing:
        raise KeyError(f"no generated fragment for {missing}")
    return " ".join([" ".join(text.split()), *(FRAGMENTS[n] for n in names)])


PAGE = "pageInfo { endCursor hasNextPage } totalCount"
SERIES = "metrics(keys: $keys, buckets: $buckets) { key downsampled lastStep total points { ...SeriesPointFields } }"

VIEWER = op("query Viewer { viewer { ...UserFields } }")

# projects
CREATE_PROJECT = op("mutation CreateProject($input: CreateProjectInput!) { createProject(input: $input) { ...ProjectFields } }")
PROJECT = op("query Project($id: ID, $name: String) { project(id: $id, name: $name) { ...ProjectFields } }")
PROJECTS = op(f"query Projects($first: Int, $after: Cursor) {{ projects(first: $first, after: $after) {{ nodes {{ ...ProjectFields }} {PAGE} }} }}")
SET_MEMBERSHIP = op("mutation SetMembership($projectId: ID!, $email: String!, $role: Role!) { setMembership(projectId: $projectId, email: $email, role: $role) { ...MembershipFields } }")

# datasets
INGEST_DATASET = op("mutation IngestDataset($input: IngestDatasetInput!) { ingestDataset(input: $input) { ...JobFields } }")
PROFILE_DATASET = op("mutation ProfileDataset($versionId: ID!, $expectations: [ExpectationInput!]) { profileDataset(versionId: $versionId, expectations: $expectations) { ...JobFields } }")
DATASET = op("query Dataset($id: ID!) { dataset(id: $id) { ...DatasetFields latestVersion { ...DatasetVersionFields schema { ...ColumnSchemaFields } } } }")
DATASETS = op(f"query Datasets($projectId: ID!, $first: Int, $after: Cursor) {{ datasets(projectId: $projectId, first: $first, after: $after) {{ nodes {{ ...DatasetFields latestVersion {{ ...DatasetVersionFields schema {{ ...ColumnSchemaFields }} }} }} {PAGE} }} }}")
DATASET_VERSION = op("query DatasetVersion($id: ID!) { datasetVersion(id: $id) { ...DatasetVersionFields schema { ...ColumnSchemaFields } } }")
DATASET_VERSIONS = op(f"query DatasetVersions($datasetId: ID!, $first: Int, $after: Cursor) {{ datasetVersions(datasetId: $datasetId, first: $first, after: $after) {{ nodes {{ ...DatasetVersionFields schema {{ ...ColumnSchemaFields }} }} {PAGE} }} }}")
DATASET_PROFILE = op("query DatasetProfile($id: ID!) { datasetVersion(id: $id) { id profile } }")
DATASET_PREVIEW = op("query DatasetPreview($id: ID!, $limit: Int!, $offset: Int!) { datasetVersion(id: $id) { id preview(limit: $limit, offset: $offset) { ...DataPreviewFields } } }")

# recipes
RECIPE_FULL = "...RecipeFields steps fitted"
CREATE_RECIPE = op(f"mutation CreateRecipe($projectId: ID!, $name: String!, $steps: [JSONObject!]!) {{ createRecipe(projectId: $projectId, name: $name, steps: $steps) {{ {RECIPE_FULL} }} }}")
RECIPE = op(f"query Recipe($id: ID!) {{ recipe(id: $id) {{ {RECIPE_FULL} }} }}")
RECIPES = op(f"query Recipes($projectId: ID!, $first: Int, $after: Cursor) {{ recipes(projectId: $projectId, first: $first, after: $after) {{ nodes {{ {RECIPE_FULL} }} {PAGE} }} }}")
FIT_RECIPE = op("mutation FitRecipe($recipeId: ID!, $versionId: ID!) { fitRecipe(recipeId: $recipeId, versionId: $versionId) { ...JobFields } }")
APPLY_RECIPE = op("mutation ApplyRecipe($recipeId: ID!, $versionId: ID!, $outputDataset: String!) { applyRecipe(recipeId: $recipeId, versionId: $versionId, outputDataset: $outputDataset) { ...JobFields } }")
TRANSFORM_ROW = op("query TransformRow($recipeId: ID!, $row: JSONObject!) { transformRow(recipeId: $recipeId, row: $row) }")
SET_RECIPE_AUTO_APPLY = op(f"mutation SetRecipeAutoApply($recipeId: ID!, $sourceDatasetId: ID, $outputDataset: String) {{ setRecipeAutoApply(recipeId: $recipeId, sourceDatasetId: $sourceDatasetId, outputDataset: $outputDataset) {{ {RECIPE_FULL} }} }}")

# feature sets
CREATE_FEATURE_SET = op("mutation CreateFeatureSet($input: CreateFeatureSetInput!) { createFeatureSet(input: $input) { ...FeatureSetFields } }")
FEATURE_SET = op("query FeatureSet($id: ID!) { featureSet(id: $id) { ...FeatureSetFields } }")
DELETE_FEATURE_SET = op("mutation DeleteFeatureSet($id: ID!) { deleteFeatureSet(id: $id) { ...FeatureSetFields } }")
FEATURE_SETS = op(f"query FeatureSets($projectId: ID!, $first: Int, $after: Cursor) {{ featureSets(projectId: $projectId, first: $first, after: $after) {{ nodes {{ ...FeatureSetFields }} {PAGE} }} }}")
MATERIALIZE_FEATURE_SET = op("mutation MaterializeFeatureSet($featureSetId: ID!, $sourceVersionId: ID) { materializeFeatureSet(featureSetId: $featureSetId, sourceVersionId: $sourceVersionId) { ...JobFields } }")
BUILD_TRAINING_SET = op(
    "mutation BuildTrainingSet($featureSetIds: [ID!]!, $spineVersionId: ID!, $spineTime: String!, $outputDataset: String!) "
    "{ buildTrainingSet(featureSetIds: $featureSetIds, spineVersionId: $spineVersionId, spineTime: $spineTime, outputDataset: $outputDataset) { ...JobFields } }"
)
ONLINE_FEATURES = op("query OnlineFeatures($featureSetId: ID!, $keys: [String!]!) { onlineFeatures(featureSetId: $featureSetId, keys: $keys) { ...OnlineFeaturesFields } }")

# runs
START_RUN = op("mutation StartRun($input: StartRunInput!) { startRun(input: $input) { ...RunFields } }")
LOG_METRICS = op("mutation LogMetrics($runId: ID!, $points: [MetricInput!]!) { logMetrics(runId: $runId, points: $points) { ...LogMetricsResultFields } }")
LOG_PARAMS = op("mutation LogParams($runId: ID!, $params: [ParamInput!]!) { logParams(runId: $runId, params: $params) { ...ParamFields } }")
FINISH_RUN = op("mutation FinishRun($runId: ID!, $status: RunEndStatus!) { finishRun(runId: $runId, status: $status) { ...RunFields } }")
HEARTBEAT_RUN = op("mutation HeartbeatRun($runId: ID!) { heartbeatRun(runId: $runId) { id } }")
RUN = op(
    f"query Run($id: ID!, $keys: [String!], $buckets: Int!) {{ run(id: $id) {{ ...RunFields experiment {{ ...ExperimentFields }} "
    f"params {{ ...ParamFields }} artifacts {{ ...ArtifactFields }} {SERIES} }} }}"
)
RUNS = op(f"query Runs($projectId: ID!, $experiment: String, $status: RunStatus, $parentRunId: ID, $topLevel: Boolean, $first: Int, $after: Cursor) {{ runs(projectId: $projectId, experiment: $experiment, status: $status, parentRunId: $parentRunId, topLevel: $topLevel, first: $first, after: $after) {{ nodes {{ ...RunFields }} {PAGE} }} }}")
EXPERIMENTS = op(f"query Experiments($projectId: ID!, $first: Int, $after: Cursor) {{ experiments(projectId: $projectId, first: $first, after: $after) {{ nodes {{ ...ExperimentFields }} {PAGE} }} }}")
EXPORT_RUN = op("mutation ExportRun($runId: ID!, $idempotencyKey: String) { exportRun(runId: $runId, idempotencyKey: $idempotencyKey) { ...JobFields } }")
RUN_METRICS = op("subscription RunMetrics($runId: ID!, $keys: [String!], $after: Cursor) { runMetrics(runId: $runId, keys: $keys, after: $after) { cursor runId points { ...MetricPointFields } } }")

# training, search, evaluation
TRAIN_MODEL = op("mutation TrainModel($input: TrainModelInput!) { trainModel(input: $input) { ...JobFields } }")
START_SEARCH = op("mutation StartHyperparameterSearch($input: TrainModelInput!, $search: SearchInput!) { startHyperparameterSearch(input: $input, search: $search) { ...JobFields } }")
EVALUATE_MODEL = op("mutation EvaluateModel($datasetVersionId: ID!, $modelVersionId: ID, $runId: ID) { evaluateModel(datasetVersionId: $datasetVersionId, modelVersionId: $modelVersionId, runId: $runId) { ...JobFields } }")

# model registry
REGISTER_MODEL_VERSION = op("mutation RegisterModelVersion($input: RegisterModelVersionInput!) { registerModelVersion(input: $input) { ...ModelVersionFields } }")
SET_MODEL_ALIAS = op("mutation SetModelAlias($versionId: ID!, $alias: String!) { setModelAlias(versionId: $versionId, alias: $alias) { ...ModelAliasFields } }")
MODEL = op("query Model($id: ID!, $current: Boolean!) { model(id: $id) { ...ModelFields versions { ...ModelVersionFields } aliases(current: $current) { ...ModelAliasFields } } }")
MODELS = op(f"query Models($projectId: ID!, $first: Int, $after: Cursor) {{ models(projectId: $projectId, first: $first, after: $after) {{ nodes {{ ...ModelFields aliases {{ ...ModelAliasFields }} }} {PAGE} }} }}")
MODEL_VERSION = op("query ModelVersion($id: ID!) { modelVersion(id: $id) { ...ModelVersionFields } }")
COMPARE_MODEL_VERSIONS = op("query CompareModelVersions($ids: [ID!]!) { compareModelVersions(ids: $ids) { ...ModelVersionFields } }")
LINEAGE = op("query Lineage($id: ID!) { lineage(id: $id) { truncated nodes { ...LineageNodeFields } edges { ...LineageEdgeFields } } }")

# jobs
JOB = op("query Job($id: ID!, $logs: Int!) { job(id: $id) { ...JobFields logs(last: $logs) { ...JobLogLineFields } } }")
JOBS = op(f"query Jobs($projectId: ID!, $kind: String, $status: JobStatus, $first: Int, $after: Cursor) {{ jobs(projectId: $projectId, kind: $kind, status: $status, first: $first, after: $after) {{ nodes {{ ...JobFields }} {PAGE} }} }}")
CANCEL_JOB = op("mutation CancelJob($id: ID!) { cancelJob(id: $id) { __typename ... on Job { ...JobFields } ... on JobNotCancellable { message job { ...JobFields } } } }")
JOB_UPDATED = op("subscription JobUpdated($id: ID!, $after: Cursor) { jobUpdated(id: $id, after: $after) { ...JobFields } }")

# audit and tokens
AUDIT_TRAIL = op("query AuditTrail($projectId: ID!, $after: Cursor, $first: Int) { auditTrail(projectId: $projectId, after: $after, first: $first) { ...AuditEventFields } }")
AUDIT_EVENTS = op("subscription AuditEvents($projectId: ID!, $after: Cursor) { auditEvents(projectId: $projectId, after: $after) { ...AuditEventFields } }")
API_TOKENS = op("query ApiTokens { apiTokens { ...ApiTokenFields } }")
CREATE_API_TOKEN = op("mutation CreateApiToken($input: CreateApiTokenInput!) { createApiToken(input: $input) { token apiToken { ...ApiTokenFields } } }")
REVOKE_API_TOKEN = op("mutation RevokeApiToken($id: ID!) { revokeApiToken(id: $id) { ...ApiTokenFields } }")

# deployments and serving
DEPLOYMENT_FULL = "...DeploymentFields routes { ...ServingRouteFields } shadow { ...ServingRouteFields } enrich { ...OnlineEnrichmentFields } microBatch { ...MicroBatchingFields }"
DEPLOY_MODEL = op(f"mutation DeployModel($input: DeployModelInput!) {{ deployModel(input: $input) {{ {DEPLOYMENT_FULL} }} }}")
SET_TRAFFIC = op(f"mutation SetTraffic($input: SetTrafficInput!) {{ setTraffic(input: $input) {{ {DEPLOYMENT_FULL} }} }}")
SET_DEPLOYMENT_STATUS = op(f"mutation SetDeploymentStatus($id: ID!, $active: Boolean!) {{ setDeploymentStatus(id: $id, active: $active) {{ {DEPLOYMENT_FULL} }} }}")
DELETE_DEPLOYMENT = op(f"mutation DeleteDeployment($id: ID!) {{ deleteDeployment(id: $id) {{ {DEPLOYMENT_FULL} }} }}")
DEPLOYMENT = op(f"query Deployment($id: ID!) {{ deployment(id: $id) {{ {DEPLOYMENT_FULL} }} }}")
DEPLOYMENTS = op(f"query Deployments($projectId: ID!) {{ deployments(projectId: $projectId) {{ {DEPLOYMENT_FULL} }} }}")
PREDICT = op("mutation Predict($deploymentId: ID!, $rows: [JSONObject!]!) { predict(deploymentId: $deploymentId, rows: $rows) { requestId revision predictions { ...PredictionFields } } }")
LOG_LABELS = op("mutation LogLabels($deploymentId: ID!, $labels: [LabelInput!]!) { logLabels(deploymentId: $deploymentId, labels: $labels) }")

# pipelines
PIPELINE_RUN_FULL = "...PipelineRunFields steps { ...PipelineStepRunFields }"
CREATE_PIPELINE = op("mutation CreatePipeline($input: CreatePipelineInput!) { createPipeline(input: $input) { webhookSecret pipeline { ...PipelineFields } } }")
UPDATE_PIPELINE = op("mutation UpdatePipeline($input: UpdatePipelineInput!) { updatePipeline(input: $input) { ...PipelineFields } }")
PIPELINE = op("query Pipeline($id: ID!) { pipeline(id: $id) { ...PipelineFields } }")
PIPELINES = op(f"query Pipelines($projectId: ID!, $first: Int, $after: Cursor) {{ pipelines(projectId: $projectId, first: $first, after: $after) {{ nodes {{ ...PipelineFields }} {PAGE} }} }}")
PIPELINE_RUNS = op(f"query PipelineRuns($id: ID!, $first: Int, $after: Cursor) {{ pipeline(id: $id) {{ id runs(first: $first, after: $after) {{ nodes {{ {PIPELINE_RUN_FULL} }} {PAGE} }} }} }}")
PIPELINE_RUN = op(f"query PipelineRun($id: ID!) {{ pipelineRun(id: $id) {{ {PIPELINE_RUN_FULL} }} }}")
RUN_PIPELINE = op(f"mutation RunPipeline($pipelineId: ID!, $params: JSONObject, $force: Boolean!, $idempotencyKey: String) {{ runPipeline(pipelineId: $pipelineId, params: $params, force: $force, idempotencyKey: $idempotencyKey) {{ {PIPELINE_RUN_FULL} }} }}")
CANCEL_PIPELINE_RUN = op(f"mutation CancelPipelineRun($id: ID!) {{ cancelPipelineRun(id: $id) {{ {PIPELINE_RUN_FULL} }} }}")
ROTATE_PIPELINE_WEBHOOK_SECRET = op("mutation RotatePipelineWebhookSecret($id: ID!) { rotatePipelineWebhookSecret(id: $id) }")
PIPELINE_RUN_UPDATED = op(f"subscription PipelineRunUpdated($pipelineRunId: ID, $pipelineId: ID, $after: Cursor) {{ pipelineRunUpdated(pipelineRunId: $pipelineRunId, pipelineId: $pipelineId, after: $after) {{ {PIPELINE_RUN_FULL} }} }}")

# monitors and alerts
RESULT_FULL = "...MonitorResultFields features { ...FeatureDriftFields } prediction { ...FeatureDriftFields }"
MONITOR_FULL = f"...MonitorFields alertRules {{ ...AlertRuleFields }} latestResult {{ {RESULT_FULL} }}"
CREATE_MONITOR = op(f"mutation CreateMonitor($input: CreateMonitorInput!) {{ createMonitor(input: $input) {{ {MONITOR_FULL} }} }}")
MONITOR = op(f"query Monitor($id: ID!) {{ monitor(id: $id) {{ {MONITOR_FULL} }} }}")
MONITORS = op(f"query Monitors($projectId: ID!, $first: Int, $after: Cursor) {{ monitors(projectId: $projectId, first: $first, after: $after) {{ nodes {{ {MONITOR_FULL} }} {PAGE} }} }}")
MONITOR_RESULTS = op(f"query MonitorResults($id: ID!, $first: Int, $after: Cursor) {{ monitor(id: $id) {{ id results(first: $first, after: $after) {{ endCursor hasNextPage totalCount nodes {{ {RESULT_FULL} }} }} }} }}")
RUN_MONITOR_NOW = op("mutation RunMonitorNow($monitorId: ID!) { runMonitorNow(monitorId: $monitorId) { ...JobFields } }")
MONITOR_UPDATES = op(f"subscription MonitorUpdates($monitorId: ID!, $after: Cursor) {{ monitorUpdates(monitorId: $monitorId, after: $after) {{ {RESULT_FULL} }} }}")
CREATE_ALERT_RULE = op("mutation CreateAlertRule($input: CreateAlertRuleInput!) { createAlertRule(input: $input) { webhookSecret rule { ...AlertRuleFields } } }")
ALERTS = op(f"query Alerts($projectId: ID!, $state: AlertState, $first: Int, $after: Cursor) {{ alerts(projectId: $projectId, state: $state, first: $first, after: $after) {{ nodes {{ ...AlertFields }} {PAGE} }} }}")
ACKNOWLEDGE_ALERT = op("mutation AcknowledgeAlert($alertId: ID!) { acknowledgeAlert(alertId: $alertId) { ...AlertFields } }")
ALERT_EVENTS = op("subscription AlertEvents($projectId: ID!, $after: Cursor) { alertEvents(projectId: $projectId, after: $after) { ...AlertEventFields } }")

# event-fed feature sets
EVENT_SOURCE_FULL = "...EventSourceFields aggregations { ...WindowAggregationFields } fields { ...EventFieldFields } featureSet { ...FeatureSetFields }"
CREATE_EVENT_FEATURE_SET = op(f"mutation CreateEventFeatureSet($input: CreateEventFeatureSetInput!) {{ createEventFeatureSet(input: $input) {{ {EVENT_SOURCE_FULL} }} }}")
EVENT_SOURCE = op(f"query EventSource($featureSetId: ID!) {{ eventSource(featureSetId: $featureSetId) {{ {EVENT_SOURCE_FULL} }} }}")
INGEST_EVENTS = op("mutation IngestEvents($featureSetId: ID!, $events: [JSON!]!) { ingestEvents(featureSetId: $featureSetId, events: $events) { ...IngestEventsResultFields rejected { ...EventRejectionFields } } }")
MATERIALIZE_EVENT_FEATURES = op("mutation MaterializeEventFeatures($featureSetId: ID!) { materializeEventFeatures(featureSetId: $featureSetId) { ...JobFields } }")

# labelling
TASK_FULL = "...LabellingTaskFields labelSchema { ...LabelSchemaFields } progress { ...LabellingProgressFields labellers { ...LabellerProgressFields } }"
ITEM_FIELDS = "...LabellingItemFields"
CREATE_LABELLING_TASK = op(f"mutation CreateLabellingTask($input: CreateLabellingTaskInput!) {{ createLabellingTask(input: $input) {{ {TASK_FULL} }} }}")
LABELLING_TASK = op(f"query LabellingTask($id: ID!) {{ labellingTask(id: $id) {{ {TASK_FULL} agreement {{ ...LabellingAgreementFields classCounts {{ ...LabelClassCountFields }} }} }} }}")
LABELLING_TASKS = op(f"query LabellingTasks($projectId: ID!, $first: Int, $after: Cursor) {{ labellingTasks(projectId: $projectId, first: $first, after: $after) {{ nodes {{ {TASK_FULL} }} {PAGE} }} }}")
LABELLING_ITEMS = op(f"query LabellingItems($id: ID!, $limit: Int!, $offset: Int!) {{ labellingTask(id: $id) {{ id items(limit: $limit, offset: $offset) {{ {ITEM_FIELDS} labels {{ ...LabelFields }} }} }} }}")
NEXT_LABELLING_ITEMS = op(f"mutation NextLabellingItems($taskId: ID!, $limit: Int!) {{ nextLabellingItems(taskId: $taskId, limit: $limit) {{ {ITEM_FIELDS} }} }}")
SUBMIT_LABEL = op("mutation SubmitLabel($itemId: ID!, $value: LabelValueInput!) { submitLabel(itemId: $itemId, value: $value) { ...LabelFields } }")
SKIP_LABELLING_ITEM = op("mutation SkipLabellingItem($itemId: ID!) { skipLabellingItem(itemId: $itemId) { ...LabelFields } }")
EXPORT_LABELS = op("mutation ExportLabels($taskId: ID!, $dataset: String, $labelledOnly: Boolean) { exportLabels(taskId: $taskId, dataset: $dataset, labelledOnly: $labelledOnly) { ...JobFields } }")
LABELLING_PROGRESS = op("subscription LabellingProgress($taskId: ID!, $after: Cursor) { labellingProgress(taskId: $taskId, after: $after) { ...LabellingProgressFields labellers { ...LabellerProgressFields } } }")
