-- Ouro foundation: identity, the lifecycle's objects, jobs, runs and metrics, audit.
-- Every table that belongs to a project carries project_id: authorization filters on it,
-- and deleting a project removes everything in it.

CREATE TABLE users (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email       text NOT NULL UNIQUE,
  name        text NOT NULL,
  is_admin    boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_tokens (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id       uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name          text NOT NULL,
  token_hash    text NOT NULL UNIQUE,
  prefix        text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_used_at  timestamptz,
  expires_at    timestamptz,
  revoked_at    timestamptz
);
CREATE INDEX api_tokens_user_id_idx ON api_tokens (user_id);

CREATE TABLE projects (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name         text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
  description  text NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE memberships (
  project_id  uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  role        text NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (project_id, user_id)
);
CREATE INDEX memberships_user_id_idx ON memberships (user_id);

-- Stage 1: data ----------------------------------------------------------------------

CREATE TABLE datasets (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id   uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name         text NOT NULL,
  description  text NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, name)
);
CREATE INDEX datasets_project_id_idx ON datasets (project_id);

CREATE TABLE artifacts (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id    uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  run_id        uuid,
  name          text NOT NULL,
  kind          text NOT NULL,
  sha256        text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  byte_size     bigint NOT NULL CHECK (byte_size >= 0),
  content_type  text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX artifacts_project_id_idx ON artifacts (project_id);
CREATE INDEX artifacts_run_id_idx ON artifacts (run_id);

CREATE TABLE recipes (
  id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id            uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name                  text NOT NULL,
  steps                 jsonb NOT NULL DEFAULT '[]',
  fitted                jsonb,
  fitted_on_version_id  uuid,
  created_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recipes_project_id_idx ON recipes (project_id);

CREATE TABLE dataset_versions (
  id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id          uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  dataset_id          uuid NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
  version             integer NOT NULL CHECK (version > 0),
  content_hash        text NOT NULL,
  schema              jsonb NOT NULL DEFAULT '[]',
  row_count           bigint NOT NULL DEFAULT 0,
  byte_size           bigint NOT NULL DEFAULT 0,
  source              jsonb NOT NULL DEFAULT '{}',
  tags                text[] NOT NULL DEFAULT '{}',
  profile             jsonb,
  artifact_id         uuid REFERENCES artifacts(id),
  parent_version_ids  uuid[] NOT NULL DEFAULT '{}',
  recipe_id           uuid REFERENCES recipes(id),
  created_at          timestamptz NOT NULL DEFAULT now(),
  UNIQUE (dataset_id, version),
  UNIQUE (dataset_id, content_hash)
);
CREATE INDEX dataset_versions_project_id_idx ON dataset_versions (project_id);

CREATE TABLE feature_sets (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id         uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name               text NOT NULL,
  entity_keys        text[] NOT NULL DEFAULT '{}',
  timestamp_column   text,
  features           jsonb NOT NULL DEFAULT '[]',
  source_version_id  uuid REFERENCES dataset_versions(id),
  recipe_id          uuid REFERENCES recipes(id),
  created_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, name)
);
CREATE INDEX feature_sets_project_id_idx ON feature_sets (project_id);

-- Jobs -------------------------------------------------------------------------------

CREATE TABLE jobs (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id       uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  kind             text NOT NULL,
  status           text NOT NULL DEFAULT 'queued'
                   CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
  progress         real NOT NULL DEFAULT 0 CHECK (progress >= 0 AND progress <= 1),
  payload          jsonb NOT NULL DEFAULT '{}',
  result           jsonb,
  error            text,
  attempt          integer NOT NULL DEFAULT 0,
  max_attempts     integer NOT NULL CHECK (max_attempts > 0),
  idempotency_key  text,
  queue_job_id     text,
  worker_id        text,
  revision         integer NOT NULL DEFAULT 1,
  created_by_id    uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  finished_at      timestamptz,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, idempotency_key)
);
CREATE INDEX jobs_project_id_idx ON jobs (project_id, created_at DESC);
CREATE INDEX jobs_running_idx ON jobs (worker_id) WHERE status = 'running';

CREATE TABLE job_logs (
  seq      bigserial PRIMARY KEY,
  job_id   uuid NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  attempt  integer NOT NULL,
  level    text NOT NULL,
  message  text NOT NULL,
  at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_logs_job_id_idx ON job_logs (job_id, seq);

-- One row per live worker process; a row whose heartbeat is older than the lease belongs to
-- a dead process, and its jobs are handed back to the queue.
CREATE TABLE worker_processes (
  id                 text PRIMARY KEY,
  queue_worker_ids   text[] NOT NULL DEFAULT '{}',
  hostname           text NOT NULL,
  pid                integer NOT NULL,
  started_at         timestamptz NOT NULL DEFAULT now(),
  heartbeat_at       timestamptz NOT NULL DEFAULT now()
);

-- Stage 2: experiments, runs, models, pipelines -----------------------------------------

CREATE TABLE experiments (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id   uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name         text NOT NULL,
  description  text NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, name)
);
CREATE INDEX experiments_project_id_idx ON experiments (project_id);

CREATE TABLE runs (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id     uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  experiment_id  uuid NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
  name           text NOT NULL,
  status         text NOT NULL DEFAULT 'running'
                 CHECK (status IN ('running', 'finished', 'failed', 'killed')),
  status_reason  text,
  started_at     timestamptz NOT NULL DEFAULT now(),
  finished_at    timestamptz,
  heartbeat_at   timestamptz NOT NULL DEFAULT now(),
  tags           jsonb NOT NULL DEFAULT '{}',
  parent_run_id  uuid REFERENCES runs(id) ON DELETE SET NULL,
  job_id         uuid REFERENCES jobs(id) ON DELETE SET NULL,
  created_by_id  uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX runs_project_id_idx ON runs (project_id);
CREATE INDEX runs_experiment_id_idx ON runs (experiment_id, created_at DESC);
CREATE INDEX runs_running_heartbeat_idx ON runs (heartbeat_at) WHERE status = 'running';

ALTER TABLE artifacts ADD FOREIGN KEY (run_id) REFERENCES runs(id) ON DELETE SET NULL;

CREATE TABLE params (
  run_id  uuid NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key     text NOT NULL,
  value   text NOT NULL,
  PRIMARY KEY (run_id, key)
);

-- The hot table. (run_id, key, step) is unique: a retried batch changes nothing.
CREATE TABLE metric_points (
  seq          bigserial PRIMARY KEY,
  run_id       uuid NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key          text NOT NULL,
  step         bigint NOT NULL,
  value        double precision NOT NULL,
  recorded_at  timestamptz NOT NULL,
  UNIQUE (run_id, key, step)
);
CREATE INDEX metric_points_run_seq_idx ON metric_points (run_id, seq);

CREATE TABLE models (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id   uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name         text NOT NULL,
  description  text NOT NULL DEFAULT '',
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, name)
);
CREATE INDEX models_project_id_idx ON models (project_id);

CREATE TABLE model_versions (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id   uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  model_id     uuid NOT NULL REFERENCES models(id) ON DELETE CASCADE,
  version      integer NOT NULL CHECK (version > 0),
  run_id       uuid REFERENCES runs(id) ON DELETE SET NULL,
  artifact_id  uuid REFERENCES artifacts(id),
  recipe_id    uuid REFERENCES recipes(id),
  signature    jsonb NOT NULL DEFAULT '{}',
  metrics      jsonb NOT NULL DEFAULT '{}',
  card         jsonb NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (model_id, version)
);
CREATE INDEX model_versions_project_id_idx ON model_versions (project_id);

CREATE TABLE model_aliases (
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id        uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  model_id          uuid NOT NULL REFERENCES models(id) ON DELETE CASCADE,
  alias             text NOT NULL,
  model_version_id  uuid NOT NULL REFERENCES model_versions(id) ON DELETE CASCADE,
  set_by_id         uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at        timestamptz NOT NULL DEFAULT now(),
  replaced_at       timestamptz
);
CREATE INDEX model_aliases_project_id_idx ON model_aliases (project_id);
CREATE UNIQUE INDEX model_aliases_current_idx ON model_aliases (model_id, alias) WHERE replaced_at IS NULL;

CREATE TABLE pipelines (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id           uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name                 text NOT NULL,
  spec                 jsonb NOT NULL DEFAULT '{}',
  triggers             jsonb NOT NULL DEFAULT '[]',
  webhook_secret_hash  text,
  created_at           timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, name)
);
CREATE INDEX pipelines_project_id_idx ON pipelines (project_id);

CREATE TABLE pipeline_runs (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id   uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  pipeline_id  uuid NOT NULL REFERENCES pipelines(id) ON DELETE CASCADE,
  status       text NOT NULL DEFAULT 'queued',
  trigger      jsonb NOT NULL DEFAULT '{}',
  steps        jsonb NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL DEFAULT now(),
  finished_at  timestamptz
);
CREATE INDEX pipeline_runs_project_id_idx ON pipeline_runs (project_id);
CREATE INDEX pipeline_runs_pipeline_id_idx ON pipeline_runs (pipeline_id, created_at DESC);

-- Stages 3 and 4: serving and monitoring ------------------------------------------------

CREATE TABLE deployments (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id  uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name        text NOT NULL,
  status      text NOT NULL DEFAULT 'pending',
  graph       jsonb NOT NULL DEFAULT '{}',
  traffic     jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, name)
);
CREATE INDEX deployments_project_id_idx ON deployments (project_id);

CREATE TABLE monitors (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id     uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name           text NOT NULL,
  deployment_id  uuid REFERENCES deployments(id) ON DELETE CASCADE,
  kind           text NOT NULL,
  config         jsonb NOT NULL DEFAULT '{}',
  status         text NOT NULL DEFAULT 'active',
  created_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, name)
);
CREATE INDEX monitors_project_id_idx ON monitors (project_id);

CREATE TABLE alerts (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id           uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  monitor_id           uuid REFERENCES monitors(id) ON DELETE SET NULL,
  state                text NOT NULL CHECK (state IN ('firing', 'acknowledged', 'resolved')),
  severity             text NOT NULL DEFAULT 'warning',
  message              text NOT NULL,
  details              jsonb NOT NULL DEFAULT '{}',
  created_at           timestamptz NOT NULL DEFAULT now(),
  acknowledged_at      timestamptz,
  acknowledged_by_id   uuid REFERENCES users(id) ON DELETE SET NULL,
  resolved_at          timestamptz
);
CREATE INDEX alerts_project_id_idx ON alerts (project_id, created_at DESC);

-- Governance -------------------------------------------------------------------------

CREATE TABLE audit_events (
  seq          bigserial PRIMARY KEY,
  project_id   uuid REFERENCES projects(id) ON DELETE CASCADE,
  actor_id     uuid REFERENCES users(id) ON DELETE SET NULL,
  action       text NOT NULL,
  target_type  text NOT NULL,
  target_id    text,
  data         jsonb NOT NULL DEFAULT '{}',
  request_id   text,
  at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_project_seq_idx ON audit_events (project_id, seq);
