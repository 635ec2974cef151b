"""Types of Ouro's GraphQL API, generated from schema.graphql by tools/generate.py. Do not edit."""

# ruff: noqa: E501
from __future__ import annotations

import warnings
from datetime import datetime
from enum import Enum
from typing import Any, Union

from pydantic import BaseModel, ConfigDict, Field


# Fields named like BaseModel's deprecated helpers (e.g. DatasetVersion.schema) replace them on purpose.
warnings.filterwarnings("ignore", message=r'Field name "(schema)" in "\w+" shadows', category=UserWarning)


class OuroModel(BaseModel):
    """Base of every generated type: snake_case attributes, camelCase on the wire, unknown fields ignored."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=False)


class AlertDirection(str, Enum):
    'above: fires when the value is ≥ threshold; below: when ≤ threshold.'
    above = 'above'
    below = 'below'


class AlertState(str, Enum):
    acknowledged = 'acknowledged'
    firing = 'firing'
    resolved = 'resolved'


class DataFormat(str, Enum):
    arrow = 'arrow'
    csv = 'csv'
    json = 'json'
    ndjson = 'ndjson'
    parquet = 'parquet'
    tsv = 'tsv'


class DriftStatus(str, Enum):
    'ok < potential_drift < detected; no_data when the window had nothing to measure.'
    detected = 'detected'
    no_data = 'no_data'
    ok = 'ok'
    potential_drift = 'potential_drift'


class EarlyStopping(str, Enum):
    'none; median (stop trials worse than the median of finished ones at the same epoch); halving (successive halving over epoch rungs).'
    halving = 'halving'
    median = 'median'
    none = 'none'


class ExpectationKind(str, Enum):
    allowedSet = 'allowedSet'
    notNull = 'notNull'
    range = 'range'
    regex = 'regex'
    rowCount = 'rowCount'
    unique = 'unique'


class JobStatus(str, Enum):
    cancelled = 'cancelled'
    failed = 'failed'
    queued = 'queued'
    running = 'running'
    succeeded = 'succeeded'


class LabelKind(str, Enum):
    'classes: one class per row; multiLabel: a set of classes; numeric: a number in [min, max].'
    classes = 'classes'
    multiLabel = 'multiLabel'
    numeric = 'numeric'


class LabellingSelectionStrategy(str, Enum):
    disagreement = 'disagreement'
    leastConfident = 'leastConfident'
    random = 'random'


class ModelTask(str, Enum):
    binary = 'binary'
    multiclass = 'multiclass'
    regression = 'regression'


class MonitorKind(str, Enum):
    data_drift = 'data_drift'
    data_quality = 'data_quality'
    performance = 'performance'
    prediction_drift = 'prediction_drift'


class PredictionRole(str, Enum):
    primary = 'primary'
    shadow = 'shadow'


class Role(str, Enum):
    'viewer reads; editor also writes; admin also manages members.'
    admin = 'admin'
    editor = 'editor'
    viewer = 'viewer'


class RunEndStatus(str, Enum):
    failed = 'failed'
    finished = 'finished'
    killed = 'killed'


class RunStatus(str, Enum):
    failed = 'failed'
    finished = 'finished'
    killed = 'killed'
    running = 'running'


class SearchStrategy(str, Enum):
    grid = 'grid'
    random = 'random'


class Severity(str, Enum):
    critical = 'critical'
    info = 'info'
    warning = 'warning'


class TextEncoding(str, Enum):
    'Text encodings ingestion reads: utf8 and latin1 only.'
    latin1 = 'latin1'
    utf8 = 'utf8'


class Alert(OuroModel):

    acknowledged_at: datetime | None = Field(default=None, alias='acknowledgedAt')
    acknowledged_by_id: str | None = Field(default=None, alias='acknowledgedById')
    created_at: datetime = Field(alias='createdAt')
    details: dict[str, Any]
    history: list[AlertEvent] | None = Field(default=None, description="This alert's state changes, oldest first; follow alertEvents after the last one's cursor for what comes next.")
    id: str
    message: str
    monitor_id: str | None = Field(default=None, alias='monitorId')
    project_id: str = Field(alias='projectId')
    resolved_at: datetime | None = Field(default=None, alias='resolvedAt')
    rule_id: str | None = Field(default=None, alias='ruleId')
    severity: str
    state: AlertState


class AlertConnection(OuroModel):

    edges: list[AlertEdge] | None = None
    nodes: list[Alert] | None = None
    page_info: PageInfo | None = Field(default=None, alias='pageInfo')
    total_count: int = Field(alias='totalCount', description='Items matching the filters, all pages together.')


class AlertEdge(OuroModel):

    cursor: str
    node: Alert | None = None


class AlertEvent(OuroModel):

    actor_id: str | None = Field(default=None, alias='actorId', description='Who changed it (none when Ouro did).')
    alert_id: str = Field(alias='alertId')
    at: datetime
    cursor: str
    data: dict[str, Any]
    rule_id: str | None = Field(default=None, alias='ruleId')
    state: AlertState


class AlertRule(OuroModel):

    created_at: datetime = Field(alias='createdAt')
    direction: AlertDirection
    enabled: bool
    for_windows: int = Field(alias='forWindows')
    id: str
    metric: str
    monitor_id: str = Field(alias='monitorId')
    name: str
    project_id: str = Field(alias='projectId')
    severity: Severity
    threshold: float
    webhook_url: str | None = Field(default=None, alias='webhookUrl')


class AlertRuleCreated(OuroModel):

    rule: AlertRule | None = None
    webhook_secret: str | None = Field(default=None, alias='webhookSecret', description='The generated webhook secret: shown this once, never again.')


class ApiToken(OuroModel):

    created_at: datetime = Field(alias='createdAt')
    expires_at: datetime | None = Field(default=None, alias='expiresAt')
    id: str
    last_used_at: datetime | None = Field(default=None, alias='lastUsedAt')
    name: str
    prefix: str = Field(description='First characters of the token, to tell tokens apart.')
    revoked_at: datetime | None = Field(default=None, alias='revokedAt')


class Artifact(OuroModel):

    byte_size: float = Field(alias='byteSize')
    content_type: str = Field(alias='contentType')
    created_at: datetime = Field(alias='createdAt')
    id: str
    kind: str
    name: str
    sha256: str


class AttachEventStreamInput(OuroModel):

    ack_wait_seconds: int | None = Field(default=None, alias='ackWaitSeconds', description='Seconds before an unacked message is redelivered (default 30).')
    batch_size: int | None = Field(default=None, alias='batchSize', description='Messages per pull and per ingest transaction (default 500, at most OURO_EVENTS_MAX_BATCH).')
    durable_name: str | None = Field(default=None, alias='durableName', description='Durable consumer name (default ouro-<feature set name>); created if missing, resumed if it exists.')
    start_from: str | None = Field(default=None, alias='startFrom', description='first (default) | new: where a newly created durable consumer starts.')
    stream_name: str = Field(alias='streamName', description='The JetStream stream (it must exist on the NATS server).')
    subject: str | None = Field(default=None, description='Subject filter, e.g. purchases.> (default: every subject of the stream).')


class AuditEvent(OuroModel):

    action: str = Field(description='e.g. run.start, job.create, project.create')
    actor_id: str | None = Field(default=None, alias='actorId', description='Who did it; null for Ouro itself.')
    at: datetime
    cursor: str
    data: dict[str, Any]
    project_id: str | None = Field(default=None, alias='projectId')
    request_id: str | None = Field(default=None, alias='requestId')
    target_id: str | None = Field(default=None, alias='targetId')
    target_type: str = Field(alias='targetType')


class ColumnSchema(OuroModel):

    name: str
    nullable: bool
    type: str = Field(description='Polars type name: Float64, Int64, String, Bool, Date, Datetime, ...')


class CreateAlertRuleInput(OuroModel):

    direction: AlertDirection | None = Field(default=None, description='Default above.')
    for_windows: int | None = Field(default=None, alias='forWindows', description='Consecutive windows the condition must hold; default 1.')
    metric: str = Field(description='status (1 potential drift, 2 detected), driftScore, feature:<name>, prediction, performance.accuracy|f1|rmse|mae, quality.schemaViolationRate|maxNullRate|maxNullRateIncrease|maxOutOfRange|maxUnseen.')
    monitor_id: str = Field(alias='monitorId')
    name: str
    severity: Severity | None = None
    threshold: float
    webhook_secret: str | None = Field(default=None, alias='webhookSecret', description='HMAC key for the signatures; generated (and shown once) when omitted.')
    webhook_url: str | None = Field(default=None, alias='webhookUrl', description='POSTed a signed JSON notification on every state change.')


class CreateApiTokenInput(OuroModel):

    expires_in_days: int | None = Field(default=None, alias='expiresInDays', description='Days until it expires; never if omitted.')
    name: str
    user_id: str | None = Field(default=None, alias='userId', description='Instance admins may create tokens for another user.')


class CreateEventFeatureSetInput(OuroModel):

    aggregations: list[WindowAggregationInput]
    allowed_lateness_seconds: int | None = Field(default=None, alias='allowedLatenessSeconds', description='Events older than the watermark minus this are refused (default 3600).')
    entity_keys: list[str] = Field(alias='entityKeys', description='Entity key field(s): string or integer fields declared in `fields`.')
    event_id_column: str = Field(alias='eventIdColumn', description='Event id, for deduplication.')
    event_time_column: str = Field(alias='eventTimeColumn', description='Event time: ISO 8601 with a time zone, or epoch milliseconds.')
    fields: list[EventFieldInput] = Field(description='Every other field of an event, typed; all are required in each event.')
    max_future_skew_seconds: int | None = Field(default=None, alias='maxFutureSkewSeconds', description='Events more than this in the future are refused (default 300).')
    name: str
    project_id: str = Field(alias='projectId')


class CreateFeatureSetInput(OuroModel):

    auto_materialize: bool | None = Field(default=None, alias='autoMaterialize', description='Re-materialize when the source dataset gets a new version.')
    entity_keys: list[str] = Field(alias='entityKeys')
    features: list[str] | None = Field(default=None, description='All other columns if omitted.')
    name: str = Field(description='Lowercase letters, digits and _; prefixes feature columns in training sets.')
    project_id: str = Field(alias='projectId')
    recipe_id: str | None = Field(default=None, alias='recipeId', description='A fitted recipe applied before selecting features.')
    source_dataset_id: str = Field(alias='sourceDatasetId')
    source_version_id: str | None = Field(default=None, alias='sourceVersionId', description='Pin a source version; the latest is used if omitted.')
    timestamp_column: str | None = Field(default=None, alias='timestampColumn', description='Event time; needed for point-in-time training sets.')


class CreateLabellingTaskInput(OuroModel):

    assignee_ids: list[str] | None = Field(default=None, alias='assigneeIds', description='Who may label; every editor when empty.')
    label_column: str | None = Field(default=None, alias='labelColumn', description='Column the export writes labels to (default label).')
    label_schema: LabelSchemaInput = Field(alias='labelSchema')
    labels_per_row: int | None = Field(default=None, alias='labelsPerRow', description='Labels wanted per row (default 1).')
    name: str
    project_id: str = Field(alias='projectId')
    selection: LabellingSelectionInput
    size: int = Field(description='Rows in the queue (at most 10000).')
    source: LabellingSourceInput


class CreateMonitorInput(OuroModel):

    deployment_id: str = Field(alias='deploymentId')
    detected_threshold: float | None = Field(default=None, alias='detectedThreshold', description='Drift score from which drift is detected; default 0.7.')
    features: list[str] | None = Field(default=None, description='Input features to watch; default every reference column but the target.')
    kinds: list[MonitorKind]
    name: str
    potential_threshold: float | None = Field(default=None, alias='potentialThreshold', description='Drift score (mean of Hellinger and TVD) from which a feature has potential drift; default 0.5.')
    quality: QualityLimitsInput | None = None
    reference_version_id: str | None = Field(default=None, alias='referenceVersionId', description='Drift reference; default: the training data of the deployed model version. Needs a profile.')
    target: str | None = Field(default=None, description="Reference column the predictions are compared with (prediction drift); default the model's target.")
    task: str | None = Field(default=None, description='classification or regression; default from the model signature or the predictions.')
    window: MonitorWindowInput


class CreatePipelineInput(OuroModel):

    name: str
    project_id: str = Field(alias='projectId')
    spec: dict[str, Any] = Field(description='{params?, steps: [{id, kind, params, after?}]}; kinds: ingest, fitRecipe, applyRecipe, materialize, buildTrainingSet, train, search, evaluate, register, gate.')
    triggers: list[dict[str, Any]] | None = Field(default=None, description='Default [{kind: "manual"}]. {kind: "cron", schedule} | {kind: "datasetVersion", datasetId} | {kind: "alert", monitorId?} | {kind: "webhook"}')


class CreateProjectInput(OuroModel):

    description: str = ''
    name: str = Field(description='Lowercase letters, digits, - and _.')


class CreateUserInput(OuroModel):

    email: str
    is_admin: bool = Field(default=False, alias='isAdmin')
    name: str


class CreatedApiToken(OuroModel):

    api_token: ApiToken | None = Field(default=None, alias='apiToken')
    token: str = Field(description='Shown once. Store it now: Ouro keeps only its hash.')


class CreatedPipeline(OuroModel):

    pipeline: Pipeline | None = None
    webhook_secret: str = Field(alias='webhookSecret', description='Signs webhook deliveries. Shown only now; rotatePipelineWebhookSecret makes a new one.')


class DataPreview(OuroModel):

    columns: list[str]
    offset: int
    rows: list[dict[str, Any]]
    total_rows: float = Field(alias='totalRows')


class Dataset(OuroModel):

    created_at: datetime = Field(alias='createdAt')
    description: str
    id: str
    latest_version: DatasetVersion | None = Field(default=None, alias='latestVersion')
    name: str
    project_id: str = Field(alias='projectId')
    versions: DatasetVersionConnection | None = Field(default=None, description='Versions, newest first.')


class DatasetConnection(OuroModel):

    edges: list[DatasetEdge] | None = None
    nodes: list[Dataset] | None = None
    page_info: PageInfo | None = Field(default=None, alias='pageInfo')
    total_count: int = Field(alias='totalCount', description='Items matching the filters, all pages together.')


class DatasetEdge(OuroModel):

    cursor: str
    node: Dataset | None = None


class DatasetVersion(OuroModel):

    byte_size: float = Field(alias='byteSize')
    content_hash: str = Field(alias='contentHash', description='SHA-256 of the stored Parquet: same content, same version.')
    created_at: datetime = Field(alias='createdAt')
    dataset_id: str = Field(alias='datasetId')
    id: str
    parent_version_ids: list[str] = Field(alias='parentVersionIds')
    preview: DataPreview | None = Field(default=None, description='A page of rows (at most 500).')
    profile: dict[str, Any] | None = Field(default=None, description='Per-column statistics and the quality report, once profiled.')
    project_id: str = Field(alias='projectId')
    recipe_id: str | None = Field(default=None, alias='recipeId')
    row_count: float = Field(alias='rowCount')
    schema: list[ColumnSchema] | None = None  # type: ignore[assignment]
    source: dict[str, Any] = Field(description='Where the data came from (no credentials).')
    tags: list[str]
    version: int


class DatasetVersionConnection(OuroModel):

    edges: list[DatasetVersionEdge] | None = None
    nodes: list[DatasetVersion] | None = None
    page_info: PageInfo | None = Field(default=None, alias='pageInfo')
    total_count: int = Field(alias='totalCount', description='Items matching the filters, all pages together.')


class DatasetVersionEdge(OuroModel):

    cursor: str
    node: DatasetVersion | None = None


class DeployModelInput(OuroModel):

    enrich: EnrichInput | None = None
    micro_batch: MicroBatchInput | None = Field(default=None, alias='microBatch', description='Coalesce concurrent requests into one model call.')
    model_version_id: str | None = Field(default=None, alias='modelVersionId', description='One route with this version (or give routes).')
    name: str = Field(description='Part of the URL: /v1/endpoints/{name}/predict')
    project_id: str = Field(alias='projectId')
    routes: list[RouteInput] | None = None
    shadow: list[RouteInput] | None = None
    sticky_key: str | None = Field(default=None, alias='stickyKey')
    threshold: float | None = Field(default=None, description='Binary models: positive class from this probability (default 0.5).')


class Deployment(OuroModel):

    created_at: datetime = Field(alias='createdAt')
    endpoint: str = Field(description='REST path of the predict endpoint.')
    enrich: OnlineEnrichment | None = None
    id: str
    micro_batch: MicroBatching | None = Field(default=None, alias='microBatch')
    name: str
    project_id: str = Field(alias='projectId')
    revision: int = Field(description='Bumped by every traffic or status change.')
    rollout: Rollout | None = Field(default=None, description='The latest canary rollout, if any.')
    routes: list[ServingRoute] | None = None
    shadow: list[ServingRoute] | None = Field(default=None, description='Mirrored routes: scored and logged, never returned.')
    status: str = Field(description='active | stopped')
    sticky_key: str | None = Field(default=None, alias='stickyKey', description='Input column hashed to pick a route (sticky A/B).')
    threshold: float | None = None
    updated_at: datetime = Field(alias='updatedAt')


class DeploymentStats(OuroModel):
    'The last window of the prediction log, sampled every few seconds.'

    at: datetime
    labelled: int = Field(description='Of those rows, how many have a label so far.')
    p50_ms: float | None = Field(default=None, alias='p50Ms')
    p99_ms: float | None = Field(default=None, alias='p99Ms')
    routes: list[RouteStats] | None = None
    rows: int = Field(description='Rows answered (primary) in the window.')
    rows_per_second: float = Field(alias='rowsPerSecond')
    window_seconds: int = Field(alias='windowSeconds')


class DimensionInput(OuroModel):

    integer: bool | None = None
    log: bool | None = Field(default=None, description='Sample the range on a log scale.')
    max: float | None = None
    min: float | None = None
    name: str = Field(description='A model setting, e.g. learningRate, layers, dropout, batchSize, epochs.')
    values: list[Any] | None = Field(default=None, description='Values to try (grid, or random choice).')


class DriftInput(OuroModel):
    'What the simulated world does differently from the dataset.'

    category_mix: dict[str, Any] | None = Field(default=None, alias='categoryMix', description='New category mix per column: {"weather": {"rain": 0.8, "sun": 0.2}}')
    flip_labels: float | None = Field(default=None, alias='flipLabels', description='Fraction of labels flipped to another class.')
    scale: dict[str, Any] | None = Field(default=None, description='Multiplies numeric columns: {"precipitation": 2}')
    shift: dict[str, Any] | None = Field(default=None, description='Added to numeric columns: {"temp_max": 5}')


class EnrichInput(OuroModel):

    entity_column: str = Field(alias='entityColumn', description='The request column holding the entity key.')
    feature_set_id: str = Field(alias='featureSetId')
    features: list[str] | None = Field(default=None, description='Which features to add (default: every model input the feature set has).')


class EventField(OuroModel):

    name: str
    type: str = Field(description='string | integer | float | boolean')


class EventFieldInput(OuroModel):

    name: str
    type: str = Field(description='string | integer | float | boolean')


class EventRejection(OuroModel):

    event_id: str | None = Field(default=None, alias='eventId')
    index: int = Field(description='Position of the event in the batch (0-based).')
    reason: str


class EventSource(OuroModel):
    'The event schema and streaming window aggregations of an event feature set.'

    aggregations: list[WindowAggregation] | None = None
    allowed_lateness_seconds: int = Field(alias='allowedLatenessSeconds')
    entity_keys: list[str] = Field(alias='entityKeys')
    event_id_column: str = Field(alias='eventIdColumn')
    event_time_column: str = Field(alias='eventTimeColumn')
    feature_set: FeatureSet | None = Field(default=None, alias='featureSet')
    feature_set_id: str = Field(alias='featureSetId')
    fields: list[EventField] | None = None
    max_future_skew_seconds: int = Field(alias='maxFutureSkewSeconds')
    stream: EventStream | None = Field(default=None, description='The attached NATS JetStream source, if any.')
    watermark: datetime | None = Field(default=None, description='The latest event time accepted; events older than this minus the allowed lateness are refused.')


class EventStream(OuroModel):
    "A NATS JetStream source of an event feature set, read by a worker through a durable pull consumer (servers: the worker's OURO_NATS_URL), with its live status and counters since it was attached."

    accepted: float = Field(description='New events stored and counted.')
    ack_wait_seconds: int = Field(alias='ackWaitSeconds')
    attached_at: datetime = Field(alias='attachedAt')
    batch_size: int = Field(alias='batchSize')
    connected: bool = Field(description='A worker is consuming and connected to NATS.')
    consumer_host: str | None = Field(default=None, alias='consumerHost', description='The worker process consuming it.')
    duplicates: float = Field(description='Events whose id was already stored (redeliveries, resent events): counted once.')
    durable_name: str = Field(alias='durableName')
    feature_set_id: str = Field(alias='featureSetId')
    id: str
    lag: float | None = Field(default=None, description='Messages of the stream not yet consumed (pending + unacked), as of statusAt.')
    last_error: str | None = Field(default=None, alias='lastError', description='The latest error (kept after a recovery; see lastErrorAt and state).')
    last_error_at: datetime | None = Field(default=None, alias='lastErrorAt')
    last_message_at: datetime | None = Field(default=None, alias='lastMessageAt')
    last_sequence: float | None = Field(default=None, alias='lastSequence', description='Stream sequence of the last message consumed.')
    messages: float = Field(description='Messages consumed (acked) since attached, redeliveries included.')
    rejected: float = Field(description='Messages that were not valid events (see rejections).')
    rejections: list[EventStreamRejection] | None = Field(default=None, description='The latest rejected messages, newest first (at most 100 are kept).')
    start_from: str = Field(alias='startFrom', description='first | new: where a newly created durable consumer starts.')
    state: str = Field(description='pending (no worker consumes it: none running with OURO_NATS_URL, or none heard from for 30 s) | starting | connected | disconnected (reconnecting with backoff) | error (see lastError; retrying)')
    status_at: datetime | None = Field(default=None, alias='statusAt', description='When the consumer last reported.')
    stream_name: str = Field(alias='streamName')
    subject: str | None = Field(default=None, description='Subject filter of the durable consumer; null: every subject of the stream.')


class EventStreamRejection(OuroModel):
    'A message of the stream that was not a valid event: acked, recorded here, never redelivered.'

    event_id: str | None = Field(default=None, alias='eventId')
    excerpt: str = Field(description='The first 500 characters of the message.')
    reason: str
    rejected_at: datetime = Field(alias='rejectedAt')
    stream_sequence: float = Field(alias='streamSequence', description="The message's sequence number in the JetStream stream.")
    subject: str


class ExpectationInput(OuroModel):

    column: str | None = None
    kind: ExpectationKind
    max: float | None = None
    min: float | None = None
    pattern: str | None = Field(default=None, description='regex: a pattern each non-null value (as text) must contain a match of.')
    values: list[str] | None = Field(default=None, description='allowedSet: the allowed values as text; a numeric column compares them as numbers ("1" allows 1.0).')


class Experiment(OuroModel):

    created_at: datetime = Field(alias='createdAt')
    description: str
    id: str
    name: str
    project_id: str = Field(alias='projectId')


class ExperimentConnection(OuroModel):

    edges: list[ExperimentEdge] | None = None
    nodes: list[Experiment] | None = None
    page_info: PageInfo | None = Field(default=None, alias='pageInfo')
    total_count: int = Field(alias='totalCount', description='Items matching the filters, all pages together.')


class ExperimentEdge(OuroModel):

    cursor: str
    node: Experiment | None = None


class FeatureDrift(OuroModel):

    count: int = Field(description='Values measured in the window.')
    kind: str = Field(description='numeric or categorical')
    metrics: dict[str, Any] = Field(description='numeric: hellinger, tvd, psi, ks, ksPValue, js; categorical: hellinger, tvd, js, chi2, chi2PValue.')
    name: str
    score: float | None = Field(default=None, description='Mean of Hellinger and TVD.')
    status: DriftStatus


class FeatureSet(OuroModel):

    auto_materialize: bool = Field(alias='autoMaterialize')
    created_at: datetime = Field(alias='createdAt')
    entity_keys: list[str] = Field(alias='entityKeys')
    features: list[str] = Field(description='Feature columns (known after the first materialization if not given).')
    id: str
    materialized_at: datetime | None = Field(default=None, alias='materializedAt')
    materialized_version_id: str | None = Field(default=None, alias='materializedVersionId')
    name: str
    offline_dataset_id: str | None = Field(default=None, alias='offlineDatasetId', description='The offline store: a dataset of Parquet versions.')
    project_id: str = Field(alias='projectId')
    recipe_id: str | None = Field(default=None, alias='recipeId')
    source_dataset_id: str | None = Field(default=None, alias='sourceDatasetId')
    source_version_id: str | None = Field(default=None, alias='sourceVersionId')
    timestamp_column: str | None = Field(default=None, alias='timestampColumn')


class FeatureSetConnection(OuroModel):

    edges: list[FeatureSetEdge] | None = None
    nodes: list[FeatureSet] | None = None
    page_info: PageInfo | None = Field(default=None, alias='pageInfo')
    total_count: int = Field(alias='totalCount', description='Items matching the filters, all pages together.')


class FeatureSetEdge(OuroModel):

    cursor: str
    node: FeatureSet | None = None


class FormatInput(OuroModel):
    'How to read the file. Every field but format has a default.'

    delimiter: str | None = Field(default=None, description='csv and tsv only: one ASCII character (default "," for csv, a tab for tsv).')
    encoding: TextEncoding | None = Field(default=None, description='Text formats only. Supported: utf8 (the default) and latin1 (read as Windows-1252, which includes ISO-8859-1); convert a file in any other encoding to UTF-8 first.')
    format: DataFormat
    header: bool | None = Field(default=None, description='csv and tsv only: whether the first line names the columns (default true).')
    infer_schema_rows: int | None = Field(default=None, alias='inferSchemaRows', description="Rows read to guess each column's type, from 0 to 10000000. Raise it when a column changes type after the first rows (the error names the column and row). csv/tsv: default 10000; 0 reads every column as text. json/ndjson: default and 0 mean the whole file.")
    null_values: list[str] | None = Field(default=None, alias='nullValues', description='csv and tsv only: cell texts that mean a missing value, in every column (at most 100).')


class HalvingInput(OuroModel):
    "Successive halving: rungs of minEpochs, minEpochs·eta, ... up to the model's epochs; the best 1/eta go on at each rung."

    eta: int | None = Field(default=None, description='Default 3.')
    min_epochs: int | None = Field(default=None, alias='minEpochs', description='Epochs of the first rung; default 1.')


class IngestDatasetInput(OuroModel):

    dataset: str = Field(description='Dataset name; created on first use.')
    format: FormatInput | None = Field(default=None, description='Detected from the name and content if omitted.')
    idempotency_key: str | None = Field(default=None, alias='idempotencyKey')
    project_id: str = Field(alias='projectId')
    source: IngestSourceInput
    tags: list[str] | None = None


class IngestEventsResult(OuroModel):

    accepted: int = Field(description='New events stored and counted.')
    duplicates: int = Field(description='Events whose id was already seen: stored once, counted once.')
    entities_updated: int = Field(alias='entitiesUpdated')
    rejected: list[EventRejection] | None = None
    watermark: datetime | None = None


class IngestSourceInput(OuroModel):
    'Exactly one of the fields.'

    path: str | None = Field(default=None, description="A file under one of the server's OURO_INGEST_ROOTS.")
    sql: SqlSourceInput | None = None
    upload_id: str | None = Field(default=None, alias='uploadId', description='An id returned by POST /v1/uploads.')
    url: str | None = Field(default=None, description='http(s) URL; private and loopback addresses are refused by default.')


class Job(OuroModel):

    attempt: int = Field(description='Tries so far (1 on the first).')
    created_at: datetime = Field(alias='createdAt')
    cursor: str = Field(description='Pass to jobUpdated(after:) to hear only later changes.')
    error: str | None = None
    finished_at: datetime | None = Field(default=None, alias='finishedAt')
    id: str
    idempotency_key: str | None = Field(default=None, alias='idempotencyKey')
    kind: str = Field(description='What the job does, e.g. runs.export.')
    logs: list[JobLogLine] | None = Field(default=None, description='The last log lines, oldest first.')
    max_attempts: int = Field(alias='maxAttempts')
    progress: float = Field(description='0 to 1.')
    project_id: str = Field(alias='projectId')
    result: dict[str, Any] | None = None
    started_at: datetime | None = Field(default=None, alias='startedAt')
    status: JobStatus
    updated_at: datetime = Field(alias='updatedAt')


class JobConnection(OuroModel):

    edges: list[JobEdge] | None = None
    nodes: list[Job] | None = None
    page_info: PageInfo | None = Field(default=None, alias='pageInfo')
    total_count: int = Field(alias='totalCount', description='Items matching the filters, all pages together.')


class JobEdge(OuroModel):

    cursor: str
    node: Job | None = None


class JobLogLine(OuroModel):

    at: datetime
    attempt: int
    level: str
    message: str


class JobNotCancellable(OuroModel):

    job: Job | None = None
    message: str


class Label(OuroModel):

    created_at: datetime = Field(alias='createdAt')
    item_id: str = Field(alias='itemId')
    skipped: bool
    updated_at: datetime = Field(alias='updatedAt')
    user_id: str = Field(alias='userId')
    value: Any = Field(default=None, description='A class name, a list of class names or a number; null when skipped.')


class LabelClassCount(OuroModel):

    class_: str = Field(alias='class')
    consensus: int = Field(description='Rows whose consensus label is (multi-label: includes) the class.')
    labels: int = Field(description='Answers naming the class.')


class LabelInput(OuroModel):

    label: Any = Field(description='The true class (string) or value (number).')
    request_id: str = Field(alias='requestId')


class LabelSchema(OuroModel):

    classes: list[str] | None = None
    kind: LabelKind
    max: float | None = None
    min: float | None = None


class LabelSchemaInput(OuroModel):

    classes: list[str] | None = None
    kind: LabelKind
    max: float | None = None
    min: float | None = None


class LabelValueInput(OuroModel):
    "Give the one field the task's label kind takes."

    class_: str | None = Field(default=None, alias='class', description='classes')
    classes: list[str] | None = Field(default=None, description='multiLabel (may be empty)')
    number: float | None = Field(default=None, description='numeric')


class LabellerPairAgreement(OuroModel):

    cohen_kappa: float | None = Field(default=None, alias='cohenKappa')
    items: int = Field(description='Rows both labelled.')
    percent_agreement: float | None = Field(default=None, alias='percentAgreement')
    user_a: str = Field(alias='userA')
    user_b: str = Field(alias='userB')


class LabellerProgress(OuroModel):

    labels: int
    skips: int
    user_id: str = Field(alias='userId')


class LabellingAgreement(OuroModel):
    'Agreement among labellers, over rows with at least two answers.'

    class_counts: list[LabelClassCount] | None = Field(default=None, alias='classCounts')
    cohen_kappa: float | None = Field(default=None, alias='cohenKappa', description="Cohen's kappa: the pair's with two labellers, else the mean over pairs weighted by shared rows (class labels).")
    compared_items: int = Field(alias='comparedItems', description='Rows with at least two answers.')
    fleiss_kappa: float | None = Field(default=None, alias='fleissKappa', description="Fleiss' kappa (class labels).")
    labelled_items: int = Field(alias='labelledItems')
    labellers: int
    mean_absolute_difference: float | None = Field(default=None, alias='meanAbsoluteDifference', description='Numeric labels: mean |a − b| between answers on the same row.')
    pairs: list[LabellerPairAgreement] | None = None
    percent_agreement: float | None = Field(default=None, alias='percentAgreement', description='Mean share of labeller pairs giving the same answer per row (null for numeric labels).')


class LabellingItem(OuroModel):

    id: str
    label_count: int = Field(alias='labelCount', description='Labels given so far (skips excluded).')
    labels: list[Label] | None = Field(default=None, description='Every answer (in task item listings; null from nextLabellingItems).')
    position: int = Field(description='Place in the queue (0 first).')
    prediction: Any = Field(default=None, description="A model's or the deployment's prediction for the row, as a hint.")
    request_id: str | None = Field(default=None, alias='requestId', description='Request id in the prediction log.')
    row_index: float | None = Field(default=None, alias='rowIndex', description='Row of the source dataset version (0-based).')
    score: float | None = Field(default=None, description="What the selection ranked by: the model's top probability (leastConfident, disagreement with a model) or the share of disagreeing answers.")
    task_id: str = Field(alias='taskId')
    values: dict[str, Any] = Field(description="The row's values when the queue was built.")


class LabellingProgress(OuroModel):

    completed_items: int = Field(alias='completedItems', description='Items with all labelsPerRow labels.')
    cursor: str = Field(description='Pass to labellingProgress(after:) to hear only later changes.')
    fraction: float = Field(description='completedItems / totalItems (0 while the queue is empty).')
    labelled_items: int = Field(alias='labelledItems', description='Items with at least one label.')
    labellers: list[LabellerProgress] | None = None
    labels: int
    skips: int
    status: str
    task_id: str = Field(alias='taskId')
    total_items: int = Field(alias='totalItems')


class LabellingSelectionInput(OuroModel):

    compare_column: str | None = Field(default=None, alias='compareColumn', description='disagreement with a model: the source column holding existing labels.')
    from_task_id: str | None = Field(default=None, alias='fromTaskId', description='disagreement: an earlier task over the same source; its rows whose labellers disagreed.')
    model_version_id: str | None = Field(default=None, alias='modelVersionId', description='leastConfident: the model that scores the rows (optional over a prediction log: the logged probabilities are used). disagreement: the model compared with compareColumn.')
    seed: int | None = Field(default=None, description='Orders the random sample and breaks ties (default 42).')
    strategy: LabellingSelectionStrategy


class LabellingSourceInput(OuroModel):

    dataset_version_id: str | None = Field(default=None, alias='datasetVersionId')
    prediction_log: PredictionLogSourceInput | None = Field(default=None, alias='predictionLog')


class LabellingTask(OuroModel):

    agreement: LabellingAgreement | None = None
    assignee_ids: list[str] = Field(alias='assigneeIds')
    build_job_id: str | None = Field(default=None, alias='buildJobId', description='The job building the queue.')
    created_at: datetime = Field(alias='createdAt')
    created_by_id: str | None = Field(default=None, alias='createdById')
    deployment_id: str | None = Field(default=None, alias='deploymentId')
    error: str | None = None
    id: str
    items: list[LabellingItem] | None = Field(default=None, description='The queue in order, with every answer.')
    label_column: str = Field(alias='labelColumn')
    label_schema: LabelSchema | None = Field(default=None, alias='labelSchema')
    labels_per_row: int = Field(alias='labelsPerRow')
    name: str
    progress: LabellingProgress | None = None
    project_id: str = Field(alias='projectId')
    selection: dict[str, Any] = Field(description='The selection as applied, defaults filled in.')
    size: int
    source: dict[str, Any] = Field(description='{kind: datasetVersion, versionId} or {kind: predictionLog, deploymentId, from, to, role}.')
    source_version_id: str | None = Field(default=None, alias='sourceVersionId')
    status: str = Field(description='building, ready or failed.')
    updated_at: datetime = Field(alias='updatedAt')


class LabellingTaskConnection(OuroModel):

    edges: list[LabellingTaskEdge] | None = None
    nodes: list[LabellingTask] | None = None
    page_info: PageInfo | None = Field(default=None, alias='pageInfo')
    total_count: int = Field(alias='totalCount', description='Items matching the filters, all pages together.')


class LabellingTaskEdge(OuroModel):

    cursor: str
    node: LabellingTask | None = None


class Lineage(OuroModel):

    edges: list[LineageEdge] | None = None
    nodes: list[LineageNode] | None = None
    truncated: bool = Field(description='More than 500 nodes: the graph was cut.')


class LineageEdge(OuroModel):

    from_: str = Field(alias='from')
    relation: str = Field(description='derived, produced, fitted, trainedOn, preprocessed, registered, source, materialized, computes; and produced, from a pipeline run to what its steps made')
    to: str


class LineageNode(OuroModel):

    created_at: datetime = Field(alias='createdAt')
    id: str
    kind: str = Field(description='datasetVersion, recipe, run, modelVersion, featureSet or pipelineRun')
    label: str


class LogMetricsResult(OuroModel):

    accepted: int = Field(description='Points stored by this call.')
    cursor: str
    duplicates: int = Field(description='Points already stored for their (key, step): ignored.')


class Membership(OuroModel):

    project_id: str = Field(alias='projectId')
    role: Role
    user_id: str = Field(alias='userId')


class MetricBatch(OuroModel):
    'Points in the order they were stored; `cursor` resumes after the last.'

    cursor: str
    points: list[MetricPoint] | None = None
    run_id: str = Field(alias='runId')


class MetricInput(OuroModel):

    key: str
    step: float = Field(description='Whole number ≥ 0; (key, step) is unique in a run.')
    timestamp: datetime | None = Field(default=None, description='When measured; now if omitted.')
    value: float


class MetricPoint(OuroModel):

    cursor: str = Field(description='Resume after this point with runMetrics(after:).')
    key: str
    step: float
    timestamp: datetime
    value: float


class MetricSeries(OuroModel):

    downsampled: bool
    key: str
    last_step: float = Field(alias='lastStep', description='Highest step stored for this key.')
    points: list[SeriesPoint] | None = None
    total: int = Field(description='Points stored for this key.')


class MicroBatchInput(OuroModel):

    max_batch: int | None = Field(default=None, alias='maxBatch', description='Default 64 rows.')
    window_ms: float | None = Field(default=None, alias='windowMs', description='Longest wait for more rows (ms). Default 0: what arrives in the same event-loop turn.')


class MicroBatching(OuroModel):

    max_batch: int = Field(alias='maxBatch')
    window_ms: float = Field(alias='windowMs')


class Model(OuroModel):

    aliases: list[ModelAlias] | None = Field(default=None, description='Who held which alias when, newest first.')
    created_at: datetime = Field(alias='createdAt')
    description: str
    id: str
    name: str
    project_id: str = Field(alias='projectId')
    versions: list[ModelVersion] | None = Field(default=None, description='Newest first.')


class ModelAlias(OuroModel):

    alias: str
    created_at: datetime = Field(alias='createdAt')
    model_version_id: str = Field(alias='modelVersionId')
    replaced_at: datetime | None = Field(default=None, alias='replacedAt', description='When another version took the alias; null while it holds it.')
    set_by_id: str | None = Field(default=None, alias='setById')


class ModelCardInput(OuroModel):

    description: str | None = None
    intended_use: str | None = Field(default=None, alias='intendedUse')
    limitations: str | None = None


class ModelConnection(OuroModel):

    edges: list[ModelEdge] | None = None
    nodes: list[Model] | None = None
    page_info: PageInfo | None = Field(default=None, alias='pageInfo')
    total_count: int = Field(alias='totalCount', description='Items matching the filters, all pages together.')


class ModelEdge(OuroModel):

    cursor: str
    node: Model | None = None


class ModelVersion(OuroModel):

    artifact_id: str | None = Field(default=None, alias='artifactId')
    card: dict[str, Any] = Field(description='description, intendedUse, limitations')
    created_at: datetime = Field(alias='createdAt')
    id: str
    metrics: dict[str, Any]
    model_id: str = Field(alias='modelId')
    project_id: str = Field(alias='projectId')
    recipe_id: str | None = Field(default=None, alias='recipeId', description='The fitted recipe its inputs go through.')
    run_id: str | None = Field(default=None, alias='runId', description='The run that trained it.')
    signature: dict[str, Any] = Field(description='Input columns and types, target, task, classes.')
    version: int


class Monitor(OuroModel):

    alert_rules: list[AlertRule] | None = Field(default=None, alias='alertRules')
    config: dict[str, Any] = Field(description='features, window, thresholds, quality limits, target, task.')
    created_at: datetime = Field(alias='createdAt')
    deployment_id: str | None = Field(default=None, alias='deploymentId')
    id: str
    kinds: list[MonitorKind]
    latest_result: MonitorResult | None = Field(default=None, alias='latestResult')
    name: str
    project_id: str = Field(alias='projectId')
    reference_version_id: str | None = Field(default=None, alias='referenceVersionId')
    results: MonitorResultPage | None = Field(default=None, description='Results in window order, after `after` (a result cursor).')
    status: str


class MonitorConnection(OuroModel):

    edges: list[MonitorEdge] | None = None
    nodes: list[Monitor] | None = None
    page_info: PageInfo | None = Field(default=None, alias='pageInfo')
    total_count: int = Field(alias='totalCount', description='Items matching the filters, all pages together.')


class MonitorEdge(OuroModel):

    cursor: str
    node: Monitor | None = None


class MonitorResult(OuroModel):

    cursor: str = Field(description='Resume monitorUpdates after this result.')
    drift_score: float | None = Field(default=None, alias='driftScore', description="The worst feature's (or the prediction's) drift score.")
    evaluated_at: datetime = Field(alias='evaluatedAt')
    features: list[FeatureDrift] | None = None
    monitor_id: str = Field(alias='monitorId')
    performance: dict[str, Any] | None = Field(default=None, description='task, labelled, accuracy and f1, or rmse and mae.')
    prediction: FeatureDrift | None = None
    predictions: int
    quality: dict[str, Any] | None = Field(default=None, description='status, null rates, out-of-range and unseen fractions, schema violations.')
    status: DriftStatus
    window_end: datetime | None = Field(default=None, alias='windowEnd')
    window_key: str = Field(alias='windowKey')
    window_start: datetime | None = Field(default=None, alias='windowStart')


class MonitorResultPage(OuroModel):

    end_cursor: str | None = Field(default=None, alias='endCursor')
    has_next_page: bool = Field(alias='hasNextPage')
    nodes: list[MonitorResult] | None = None
    total_count: int = Field(alias='totalCount')


class MonitorWindowInput(OuroModel):

    minutes: int | None = Field(default=None, description='A window every this many minutes.')
    predictions: int | None = Field(default=None, description='A window every this many (primary) predictions.')


class OnlineEnrichment(OuroModel):

    entity_column: str = Field(alias='entityColumn')
    feature_set_id: str = Field(alias='featureSetId')
    features: list[str] | None = None


class OnlineFeatures(OuroModel):

    event_time: datetime | None = Field(default=None, alias='eventTime')
    key: str = Field(description='Entity key (a JSON array for composite keys).')
    values: dict[str, Any] | None = Field(default=None, description='Null when the entity is unknown.')


class PageInfo(OuroModel):

    end_cursor: str | None = Field(default=None, alias='endCursor')
    has_next_page: bool = Field(alias='hasNextPage')


class Param(OuroModel):

    key: str
    value: str


class ParamInput(OuroModel):

    key: str
    value: str


class Pipeline(OuroModel):

    created_at: datetime = Field(alias='createdAt')
    created_by_id: str | None = Field(default=None, alias='createdById', description='Whose permissions unattended runs (schedule, data, alert, webhook) use: the last editor.')
    id: str
    name: str
    project_id: str = Field(alias='projectId')
    runs: PipelineRunConnection | None = Field(default=None, description='Runs, newest first.')
    spec: dict[str, Any] = Field(description='{params?, steps: [{id, kind, params, after?}]}')
    triggers: list[dict[str, Any]] = Field(description='{kind: manual|cron|datasetVersion|alert|webhook, ...}')
    updated_at: datetime = Field(alias='updatedAt')
    webhook_path: str = Field(alias='webhookPath', description='Where a signed POST starts a run (needs a webhook trigger).')


class PipelineConnection(OuroModel):

    edges: list[PipelineEdge] | None = None
    nodes: list[Pipeline] | None = None
    page_info: PageInfo | None = Field(default=None, alias='pageInfo')
    total_count: int = Field(alias='totalCount', description='Items matching the filters, all pages together.')


class PipelineEdge(OuroModel):

    cursor: str
    node: Pipeline | None = None


class PipelineRun(OuroModel):

    created_at: datetime = Field(alias='createdAt')
    cursor: str = Field(description='Pass to pipelineRunUpdated(after:) to hear only later changes.')
    error: str | None = None
    finished_at: datetime | None = Field(default=None, alias='finishedAt')
    force: bool
    id: str
    params: dict[str, Any]
    pipeline_id: str = Field(alias='pipelineId')
    project_id: str = Field(alias='projectId')
    started_at: datetime | None = Field(default=None, alias='startedAt')
    status: str = Field(description='queued, running, succeeded, failed or cancelled.')
    steps: list[PipelineStepRun] | None = Field(default=None, description='In spec order.')
    trigger: dict[str, Any] = Field(description='What started it: {kind: manual|cron|datasetVersion|alert|webhook, ...}.')


class PipelineRunConnection(OuroModel):

    edges: list[PipelineRunEdge] | None = None
    nodes: list[PipelineRun] | None = None
    page_info: PageInfo | None = Field(default=None, alias='pageInfo')
    total_count: int = Field(alias='totalCount', description='Items matching the filters, all pages together.')


class PipelineRunEdge(OuroModel):

    cursor: str
    node: PipelineRun | None = None


class PipelineStepRun(OuroModel):

    cache_hit: bool = Field(alias='cacheHit', description='Outputs reused from an earlier identical step.')
    error: str | None = None
    finished_at: datetime | None = Field(default=None, alias='finishedAt')
    input_hash: str | None = Field(default=None, alias='inputHash')
    inputs: dict[str, Any] | None = Field(default=None, description='Params with references resolved.')
    job_id: str | None = Field(default=None, alias='jobId')
    kind: str
    outputs: dict[str, Any] | None = Field(default=None, description='Ids and values later steps may reference.')
    started_at: datetime | None = Field(default=None, alias='startedAt')
    status: str = Field(description='pending, running, succeeded, failed, skipped or cancelled.')
    step_id: str = Field(alias='stepId')


class PredictResult(OuroModel):

    predictions: list[Prediction] | None = None
    request_id: str = Field(alias='requestId')
    revision: int


class Prediction(OuroModel):

    id: str = Field(description="This row's request id: what logLabels takes.")
    label: str | None = None
    model: str
    model_version_id: str = Field(alias='modelVersionId')
    probabilities: dict[str, Any] | None = Field(default=None, description='Probability per class.')
    route: str
    value: float | None = Field(default=None, description='Regression output.')
    version: int


class PredictionLogSourceInput(OuroModel):

    deployment_id: str = Field(alias='deploymentId')
    from_: datetime | None = Field(default=None, alias='from', description='Predictions logged at or after this time.')
    role: PredictionRole | None = Field(default=None, description='primary (default): answers returned to callers; shadow: mirrored versions.')
    to: datetime | None = Field(default=None, description='Predictions logged before this time.')


class Project(OuroModel):

    created_at: datetime = Field(alias='createdAt')
    description: str
    id: str
    my_role: Role = Field(alias='myRole', description='Your role in this project.')
    name: str


class ProjectConnection(OuroModel):

    edges: list[ProjectEdge] | None = None
    nodes: list[Project] | None = None
    page_info: PageInfo | None = Field(default=None, alias='pageInfo')
    total_count: int = Field(alias='totalCount', description='Items matching the filters, all pages together.')


class ProjectEdge(OuroModel):

    cursor: str
    node: Project | None = None


class QualityLimitsInput(OuroModel):

    null_rate_increase: float | None = Field(default=None, alias='nullRateIncrease', description="Largest rise of a feature's null rate over the reference's (default 0.1).")
    out_of_range: float | None = Field(default=None, alias='outOfRange', description="Largest fraction of a feature's values outside the reference min–max (default 0.05).")
    schema_violations: float | None = Field(default=None, alias='schemaViolations', description='Largest fraction of rows breaking the schema (default 0).')
    unseen: float | None = Field(default=None, description='Largest fraction of categories the reference never had (default 0.05).')


class Recipe(OuroModel):
    'Ordered transform steps; fitted once, applied identically in batch and per row.'

    auto_apply_output_id: str | None = Field(default=None, alias='autoApplyOutputId', description='Where automatic applications go.')
    auto_apply_source_id: str | None = Field(default=None, alias='autoApplySourceId', description='New versions of this dataset are applied automatically.')
    created_at: datetime = Field(alias='createdAt')
    fitted: dict[str, Any] | None = Field(default=None, description='What fitting learned; null until fitted.')
    fitted_on_version_id: str | None = Field(default=None, alias='fittedOnVersionId')
    id: str
    name: str
    project_id: str = Field(alias='projectId')
    steps: list[dict[str, Any]] | None = None


class RecipeConnection(OuroModel):

    edges: list[RecipeEdge] | None = None
    nodes: list[Recipe] | None = None
    page_info: PageInfo | None = Field(default=None, alias='pageInfo')
    total_count: int = Field(alias='totalCount', description='Items matching the filters, all pages together.')


class RecipeEdge(OuroModel):

    cursor: str
    node: Recipe | None = None


class RegisterModelVersionInput(OuroModel):

    card: ModelCardInput | None = None
    model: str = Field(description='Model name; created on first use.')
    run_id: str = Field(alias='runId', description='A run that trained a model.')


class Rollout(OuroModel):
    'A canary: the challenger route takes canaryWeight of the traffic until the labels decide.'

    canary_weight: float = Field(alias='canaryWeight')
    min_labels: int = Field(alias='minLabels')
    mode: str
    reason: str | None = None
    started_at: datetime = Field(alias='startedAt')
    status: str = Field(description='running | awaitingApproval | promoted | rolledBack')
    verdict: RolloutVerdict | None = None


class RolloutVerdict(OuroModel):

    better: bool = Field(description='The challenger is at least as good.')
    challenger: float
    challenger_labels: int = Field(alias='challengerLabels')
    champion: float
    champion_labels: int = Field(alias='championLabels')
    metric: str = Field(description='accuracy (classification) or rmse (regression)')


class RouteInput(OuroModel):

    combine: str | None = Field(default=None, description='mean (default) | vote')
    model_version_ids: list[str] = Field(alias='modelVersionIds')
    name: str | None = None
    weight: float | None = Field(default=None, description='Default 1.')


class RouteStats(OuroModel):

    model_version_id: str = Field(alias='modelVersionId')
    p50_ms: float | None = Field(default=None, alias='p50Ms')
    role: str = Field(description='primary | shadow')
    rows: int


class Run(OuroModel):

    artifacts: list[Artifact] | None = None
    created_at: datetime = Field(alias='createdAt')
    experiment: Experiment | None = None
    experiment_id: str = Field(alias='experimentId')
    finished_at: datetime | None = Field(default=None, alias='finishedAt')
    heartbeat_at: datetime = Field(alias='heartbeatAt')
    id: str
    metrics: list[MetricSeries] | None = Field(default=None, description='Series per key, downsampled to at most `buckets` points each.')
    name: str
    params: list[Param] | None = None
    parent_run: Run | None = Field(default=None, alias='parentRun', description="The run this one belongs to (e.g. a search's trial).")
    parent_run_id: str | None = Field(default=None, alias='parentRunId')
    project_id: str = Field(alias='projectId')
    started_at: datetime = Field(alias='startedAt')
    status: RunStatus
    status_reason: str | None = Field(default=None, alias='statusReason')
    tags: dict[str, Any]


class RunConnection(OuroModel):

    edges: list[RunEdge] | None = None
    nodes: list[Run] | None = None
    page_info: PageInfo | None = Field(default=None, alias='pageInfo')
    total_count: int = Field(alias='totalCount', description='Items matching the filters, all pages together.')


class RunEdge(OuroModel):

    cursor: str
    node: Run | None = None


class SearchInput(OuroModel):

    early_stopping: EarlyStopping | None = Field(default=None, alias='earlyStopping', description='Overrides medianStopping when given.')
    halving: HalvingInput | None = None
    max_concurrent: int = Field(default=2, alias='maxConcurrent')
    maximize: bool = False
    median_stopping: bool = Field(default=True, alias='medianStopping', description='Stop trials worse than the median of finished ones at the same epoch.')
    metric: str = Field(default='val_loss', description='Per-epoch metric to optimise.')
    space: list[DimensionInput]
    strategy: SearchStrategy = SearchStrategy.random
    trials: int = Field(default=10, description='Random search: how many trials.')


class SeriesPoint(OuroModel):

    max: float
    min: float
    step: float = Field(description='First step of the bucket (the step itself when not downsampled).')
    timestamp: datetime
    value: float = Field(description="Value, or the bucket's mean.")


class ServingRoute(OuroModel):
    'A routable target: one model version, or an ensemble of several.'

    combine: str = Field(description='mean | vote (ensembles)')
    model_version_ids: list[str] = Field(alias='modelVersionIds')
    name: str
    weight: float = Field(description="Share of traffic relative to the other routes' weights; 0 for shadow routes.")


class SetTrafficInput(OuroModel):

    deployment_id: str = Field(alias='deploymentId')
    routes: list[RouteInput]
    shadow: list[RouteInput] | None = None
    sticky_key: str | None = Field(default=None, alias='stickyKey')


class SimulateTrafficInput(OuroModel):

    batch_size: int | None = Field(default=None, alias='batchSize', description='Rows per request (default 1).')
    dataset_version_id: str = Field(alias='datasetVersionId', description='Rows are replayed in order (wrapping around).')
    deployment_id: str = Field(alias='deploymentId')
    drift: DriftInput | None = None
    label_column: str | None = Field(default=None, alias='labelColumn', description='Column holding the true label: removed from requests, sent back with logLabels.')
    label_delay_seconds: float | None = Field(default=None, alias='labelDelaySeconds', description='Seconds between a prediction and its label (default 0).')
    rate: float = Field(description='Rows per second.')
    rows: int = Field(description='Rows to send.')
    seed: int | None = None


class SqlSourceInput(OuroModel):

    query: str = Field(description='One read-only SELECT.')
    source: str = Field(description='A source name configured in OURO_SQL_SOURCES.')


class StartRolloutInput(OuroModel):

    canary_weight: float | None = Field(default=None, alias='canaryWeight', description='Share of traffic for the challenger (default 0.1).')
    challenger_version_id: str = Field(alias='challengerVersionId')
    deployment_id: str = Field(alias='deploymentId')
    min_labels: int | None = Field(default=None, alias='minLabels', description='Labelled predictions each side needs before the verdict (default 100).')
    mode: str | None = Field(default=None, description='auto (default): promote or roll back by the metrics; manual: wait for approveRollout.')


class StartRunInput(OuroModel):

    experiment: str = Field(description='Experiment name; created on first use.')
    name: str | None = None
    parent_run_id: str | None = Field(default=None, alias='parentRunId')
    project_id: str = Field(alias='projectId')
    tags: dict[str, Any] | None = None


class TrainModelInput(OuroModel):

    dataset_version_id: str = Field(alias='datasetVersionId', description='Training data: a dataset version (a training set is one too).')
    experiment: str = 'training'
    features: list[str] | None = Field(default=None, description='Input columns (after the recipe); all but the target if omitted.')
    idempotency_key: str | None = Field(default=None, alias='idempotencyKey')
    model: dict[str, Any] | None = Field(default=None, description='Default {kind: "mlp"}. {kind: "mlp", layers, activation, dropout, optimizer, learningRate, batchSize, epochs, earlyStopping: {patience}, classWeights} | {kind: "logistic", ...} | {kind: "linear"}')
    positive_class: str | None = Field(default=None, alias='positiveClass')
    project_id: str = Field(alias='projectId')
    recipe_id: str | None = Field(default=None, alias='recipeId', description='A fitted recipe applied to the data first (and by serving later).')
    run_name: str | None = Field(default=None, alias='runName')
    seed: int = 42
    target: str
    task: ModelTask
    validation_fraction: float = Field(default=0.2, alias='validationFraction')
    validation_version_id: str | None = Field(default=None, alias='validationVersionId', description='Validation data; else a seeded split of the training data.')


class UpdatePipelineInput(OuroModel):

    id: str
    name: str | None = None
    spec: dict[str, Any] | None = None
    triggers: list[dict[str, Any]] | None = None


class User(OuroModel):

    created_at: datetime = Field(alias='createdAt')
    email: str
    id: str
    is_admin: bool = Field(alias='isAdmin')
    name: str


class WindowAggregation(OuroModel):

    field: str | None = None
    function: str = Field(description='count | sum | mean | min | max | last | distinct_count')
    name: str
    window_minutes: int = Field(alias='windowMinutes')


class WindowAggregationInput(OuroModel):

    field: str | None = Field(default=None, description='The aggregated field (not for count).')
    function: str = Field(description='count | sum | mean | min | max | last | distinct_count')
    name: str = Field(description='Feature name (lowercase letters, digits, _).')
    window: str = Field(description='Sliding window: whole minutes, hours or days, e.g. 30m, 1h, 7d (at most 30d).')


CancelJobResult = Union[Job, JobNotCancellable]


# Selections of every scalar field (but the large ones) per object type; operations spread them.
FRAGMENTS: dict[str, str] = {
    'Alert': 'fragment AlertFields on Alert { acknowledgedAt acknowledgedById createdAt details id message monitorId projectId resolvedAt ruleId severity state }',
    'AlertConnection': 'fragment AlertConnectionFields on AlertConnection { totalCount }',
    'AlertEdge': 'fragment AlertEdgeFields on AlertEdge { cursor }',
    'AlertEvent': 'fragment AlertEventFields on AlertEvent { actorId alertId at cursor data ruleId state }',
    'AlertRule': 'fragment AlertRuleFields on AlertRule { createdAt direction enabled forWindows id metric monitorId name projectId severity threshold webhookUrl }',
    'AlertRuleCreated': 'fragment AlertRuleCreatedFields on AlertRuleCreated { webhookSecret }',
    'ApiToken': 'fragment ApiTokenFields on ApiToken { createdAt expiresAt id lastUsedAt name prefix revokedAt }',
    'Artifact': 'fragment ArtifactFields on Artifact { byteSize contentType createdAt id kind name sha256 }',
    'AuditEvent': 'fragment AuditEventFields on AuditEvent { action actorId at cursor data projectId requestId targetId targetType }',
    'ColumnSchema': 'fragment ColumnSchemaFields on ColumnSchema { name nullable type }',
    'CreatedApiToken': 'fragment CreatedApiTokenFields on CreatedApiToken { token }',
    'CreatedPipeline': 'fragment CreatedPipelineFields on CreatedPipeline { webhookSecret }',
    'DataPreview': 'fragment DataPreviewFields on DataPreview { columns offset rows totalRows }',
    'Dataset': 'fragment DatasetFields on Dataset { createdAt description id name projectId }',
    'DatasetConnection': 'fragment DatasetConnectionFields on DatasetConnection { totalCount }',
    'DatasetEdge': 'fragment DatasetEdgeFields on DatasetEdge { cursor }',
    'DatasetVersion': 'fragment DatasetVersionFields on DatasetVersion { byteSize contentHash createdAt datasetId id parentVersionIds projectId recipeId rowCount source tags version }',
    'DatasetVersionConnection': 'fragment DatasetVersionConnectionFields on DatasetVersionConnection { totalCount }',
    'DatasetVersionEdge': 'fragment DatasetVersionEdgeFields on DatasetVersionEdge { cursor }',
    'Deployment': 'fragment DeploymentFields on Deployment { createdAt endpoint id name projectId revision status stickyKey threshold updatedAt }',
    'DeploymentStats': 'fragment DeploymentStatsFields on DeploymentStats { at labelled p50Ms p99Ms rows rowsPerSecond windowSeconds }',
    'EventField': 'fragment EventFieldFields on EventField { name type }',
    'EventRejection': 'fragment EventRejectionFields on EventRejection { eventId index reason }',
    'EventSource': 'fragment EventSourceFields on EventSource { allowedLatenessSeconds entityKeys eventIdColumn eventTimeColumn featureSetId maxFutureSkewSeconds watermark }',
    'EventStream': 'fragment EventStreamFields on EventStream { accepted ackWaitSeconds attachedAt batchSize connected consumerHost duplicates durableName featureSetId id lag lastError lastErrorAt lastMessageAt lastSequence messages rejected startFrom state statusAt streamName subject }',
    'EventStreamRejection': 'fragment EventStreamRejectionFields on EventStreamRejection { eventId excerpt reason rejectedAt streamSequence subject }',
    'Experiment': 'fragment ExperimentFields on Experiment { createdAt description id name projectId }',
    'ExperimentConnection': 'fragment ExperimentConnectionFields on ExperimentConnection { totalCount }',
    'ExperimentEdge': 'fragment ExperimentEdgeFields on ExperimentEdge { cursor }',
    'FeatureDrift': 'fragment FeatureDriftFields on FeatureDrift { count kind metrics name score status }',
    'FeatureSet': 'fragment FeatureSetFields on FeatureSet { autoMaterialize createdAt entityKeys features id materializedAt materializedVersionId name offlineDatasetId projectId recipeId sourceDatasetId sourceVersionId timestampColumn }',
    'FeatureSetConnection': 'fragment FeatureSetConnectionFields on FeatureSetConnection { totalCount }',
    'FeatureSetEdge': 'fragment FeatureSetEdgeFields on FeatureSetEdge { cursor }',
    'IngestEventsResult': 'fragment IngestEventsResultFields on IngestEventsResult { accepted duplicates entitiesUpdated watermark }',
    'Job': 'fragment JobFields on Job { attempt createdAt cursor error finishedAt id idempotencyKey kind maxAttempts progress projectId result startedAt status updatedAt }',
    'JobConnection': 'fragment JobConnectionFields on JobConnection { totalCount }',
    'JobEdge': 'fragment JobEdgeFields on JobEdge { cursor }',
    'JobLogLine': 'fragment JobLogLineFields on JobLogLine { at attempt level message }',
    'JobNotCancellable': 'fragment JobNotCancellableFields on JobNotCancellable { message }',
    'Label': 'fragment LabelFields on Label { createdAt itemId skipped updatedAt userId value }',
    'LabelClassCount': 'fragment LabelClassCountFields on LabelClassCount { class consensus labels }',
    'LabelSchema': 'fragment LabelSchemaFields on LabelSchema { classes kind max min }',
    'LabellerPairAgreement': 'fragment LabellerPairAgreementFields on LabellerPairAgreement { cohenKappa items percentAgreement userA userB }',
    'LabellerProgress': 'fragment LabellerProgressFields on LabellerProgress { labels skips userId }',
    'LabellingAgreement': 'fragment LabellingAgreementFields on LabellingAgreement { cohenKappa comparedItems fleissKappa labelledItems labellers meanAbsoluteDifference percentAgreement }',
    'LabellingItem': 'fragment LabellingItemFields on LabellingItem { id labelCount position prediction requestId rowIndex score taskId values }',
    'LabellingProgress': 'fragment LabellingProgressFields on LabellingProgress { completedItems cursor fraction labelledItems labels skips status taskId totalItems }',
    'LabellingTask': 'fragment LabellingTaskFields on LabellingTask { assigneeIds buildJobId createdAt createdById deploymentId error id labelColumn labelsPerRow name projectId selection size source sourceVersionId status updatedAt }',
    'LabellingTaskConnection': 'fragment LabellingTaskConnectionFields on LabellingTaskConnection { totalCount }',
    'LabellingTaskEdge': 'fragment LabellingTaskEdgeFields on LabellingTaskEdge { cursor }',
    'Lineage': 'fragment LineageFields on Lineage { truncated }',
    'LineageEdge': 'fragment LineageEdgeFields on LineageEdge { from relation to }',
    'LineageNode': 'fragment LineageNodeFields on LineageNode { createdAt id kind label }',
    'LogMetricsResult': 'fragment LogMetricsResultFields on LogMetricsResult { accepted cursor duplicates }',
    'Membership': 'fragment MembershipFields on Membership { projectId role userId }',
    'MetricBatch': 'fragment MetricBatchFields on MetricBatch { cursor runId }',
    'MetricPoint': 'fragment MetricPointFields on MetricPoint { cursor key step timestamp value }',
    'MetricSeries': 'fragment MetricSeriesFields on MetricSeries { downsampled key lastStep total }',
    'MicroBatching': 'fragment MicroBatchingFields on MicroBatching { maxBatch windowMs }',
    'Model': 'fragment ModelFields on Model { createdAt description id name projectId }',
    'ModelAlias': 'fragment ModelAliasFields on ModelAlias { alias createdAt modelVersionId replacedAt setById }',
    'ModelConnection': 'fragment ModelConnectionFields on ModelConnection { totalCount }',
    'ModelEdge': 'fragment ModelEdgeFields on ModelEdge { cursor }',
    'ModelVersion': 'fragment ModelVersionFields on ModelVersion { artifactId card createdAt id metrics modelId projectId recipeId runId signature version }',
    'Monitor': 'fragment MonitorFields on Monitor { config createdAt deploymentId id kinds name projectId referenceVersionId status }',
    'MonitorConnection': 'fragment MonitorConnectionFields on MonitorConnection { totalCount }',
    'MonitorEdge': 'fragment MonitorEdgeFields on MonitorEdge { cursor }',
    'MonitorResult': 'fragment MonitorResultFields on MonitorResult { cursor driftScore evaluatedAt monitorId performance predictions quality status windowEnd windowKey windowStart }',
    'MonitorResultPage': 'fragment MonitorResultPageFields on MonitorResultPage { endCursor hasNextPage totalCount }',
    'OnlineEnrichment': 'fragment OnlineEnrichmentFields on OnlineEnrichment { entityColumn featureSetId features }',
    'OnlineFeatures': 'fragment OnlineFeaturesFields on OnlineFeatures { eventTime key values }',
    'PageInfo': 'fragment PageInfoFields on PageInfo { endCursor hasNextPage }',
    'Param': 'fragment ParamFields on Param { key value }',
    'Pipeline': 'fragment PipelineFields on Pipeline { createdAt createdById id name projectId spec triggers updatedAt webhookPath }',
    'PipelineConnection': 'fragment PipelineConnectionFields on PipelineConnection { totalCount }',
    'PipelineEdge': 'fragment PipelineEdgeFields on PipelineEdge { cursor }',
    'PipelineRun': 'fragment PipelineRunFields on PipelineRun { createdAt cursor error finishedAt force id params pipelineId projectId startedAt status trigger }',
    'PipelineRunConnection': 'fragment PipelineRunConnectionFields on PipelineRunConnection { totalCount }',
    'PipelineRunEdge': 'fragment PipelineRunEdgeFields on PipelineRunEdge { cursor }',
    'PipelineStepRun': 'fragment PipelineStepRunFields on PipelineStepRun { cacheHit error finishedAt inputHash inputs jobId kind outputs startedAt status stepId }',
    'PredictResult': 'fragment PredictResultFields on PredictResult { requestId revision }',
    'Prediction': 'fragment PredictionFields on Prediction { id label model modelVersionId probabilities route value version }',
    'Project': 'fragment ProjectFields on Project { createdAt description id myRole name }',
    'ProjectConnection': 'fragment ProjectConnectionFields on ProjectConnection { totalCount }',
    'ProjectEdge': 'fragment ProjectEdgeFields on ProjectEdge { cursor }',
    'Recipe': 'fragment RecipeFields on Recipe { autoApplyOutputId autoApplySourceId createdAt fittedOnVersionId id name projectId }',
    'RecipeConnection': 'fragment RecipeConnectionFields on RecipeConnection { totalCount }',
    'RecipeEdge': 'fragment RecipeEdgeFields on RecipeEdge { cursor }',
    'Rollout': 'fragment RolloutFields on Rollout { canaryWeight minLabels mode reason startedAt status }',
    'RolloutVerdict': 'fragment RolloutVerdictFields on RolloutVerdict { better challenger challengerLabels champion championLabels metric }',
    'RouteStats': 'fragment RouteStatsFields on RouteStats { modelVersionId p50Ms role rows }',
    'Run': 'fragment RunFields on Run { createdAt experimentId finishedAt heartbeatAt id name parentRunId projectId startedAt status statusReason tags }',
    'RunConnection': 'fragment RunConnectionFields on RunConnection { totalCount }',
    'RunEdge': 'fragment RunEdgeFields on RunEdge { cursor }',
    'SeriesPoint': 'fragment SeriesPointFields on SeriesPoint { max min step timestamp value }',
    'ServingRoute': 'fragment ServingRouteFields on ServingRoute { combine modelVersionIds name weight }',
    'User': 'fragment UserFields on User { createdAt email id isAdmin name }',
    'WindowAggregation': 'fragment WindowAggregationFields on WindowAggregation { field function name windowMinutes }',
}

for _model in (
    Alert,
    AlertConnection,
    AlertEdge,
    AlertEvent,
    AlertRule,
    AlertRuleCreated,
    ApiToken,
    Artifact,
    AttachEventStreamInput,
    AuditEvent,
    ColumnSchema,
    CreateAlertRuleInput,
    CreateApiTokenInput,
    CreateEventFeatureSetInput,
    CreateFeatureSetInput,
    CreateLabellingTaskInput,
    CreateMonitorInput,
    CreatePipelineInput,
    CreateProjectInput,
    CreateUserInput,
    CreatedApiToken,
    CreatedPipeline,
    DataPreview,
    Dataset,
    DatasetConnection,
    DatasetEdge,
    DatasetVersion,
    DatasetVersionConnection,
    DatasetVersionEdge,
    DeployModelInput,
    Deployment,
    DeploymentStats,
    DimensionInput,
    DriftInput,
    EnrichInput,
    EventField,
    EventFieldInput,
    EventRejection,
    EventSource,
    EventStream,
    EventStreamRejection,
    ExpectationInput,
    Experiment,
    ExperimentConnection,
    ExperimentEdge,
    FeatureDrift,
    FeatureSet,
    FeatureSetConnection,
    FeatureSetEdge,
    FormatInput,
    HalvingInput,
    IngestDatasetInput,
    IngestEventsResult,
    IngestSourceInput,
    Job,
    JobConnection,
    JobEdge,
    JobLogLine,
    JobNotCancellable,
    Label,
    LabelClassCount,
    LabelInput,
    LabelSchema,
    LabelSchemaInput,
    LabelValueInput,
    LabellerPairAgreement,
    LabellerProgress,
    LabellingAgreement,
    LabellingItem,
    LabellingProgress,
    LabellingSelectionInput,
    LabellingSourceInput,
    LabellingTask,
    LabellingTaskConnection,
    LabellingTaskEdge,
    Lineage,
    LineageEdge,
    LineageNode,
    LogMetricsResult,
    Membership,
    MetricBatch,
    MetricInput,
    MetricPoint,
    MetricSeries,
    MicroBatchInput,
    MicroBatching,
    Model,
    ModelAlias,
    ModelCardInput,
    ModelConnection,
    ModelEdge,
    ModelVersion,
    Monitor,
    MonitorConnection,
    MonitorEdge,
    MonitorResult,
    MonitorResultPage,
    MonitorWindowInput,
    OnlineEnrichment,
    OnlineFeatures,
    PageInfo,
    Param,
    ParamInput,
    Pipeline,
    PipelineConnection,
    PipelineEdge,
    PipelineRun,
    PipelineRunConnection,
    PipelineRunEdge,
    PipelineStepRun,
    PredictResult,
    Prediction,
    PredictionLogSourceInput,
    Project,
    ProjectConnection,
    ProjectEdge,
    QualityLimitsInput,
    Recipe,
    RecipeConnection,
    RecipeEdge,
    RegisterModelVersionInput,
    Rollout,
    RolloutVerdict,
    RouteInput,
    RouteStats,
    Run,
    RunConnection,
    RunEdge,
    SearchInput,
    SeriesPoint,
    ServingRoute,
    SetTrafficInput,
    SimulateTrafficInput,
    SqlSourceInput,
    StartRolloutInput,
    StartRunInput,
    TrainModelInput,
    UpdatePipelineInput,
    User,
    WindowAggregation,
    WindowAggregationInput,
):
    _model.model_rebuild()
