-- Pipelines: a DAG of typed steps, run by the worker's pipeline loop.
--
-- A pipeline run's state lives in pipeline_run_steps (one row per step), so any worker can
-- advance any run and a restarted worker loses nothing. A run keeps the spec it started
-- with: editing a pipeline never changes a run in flight.

-- The webhook secret is never stored: it is derived as HMAC(instance key, pipeline id + salt),
-- so the server can recompute it to verify a signature, a database dump alone does not give
-- it away, and rotating it is choosing a new salt.
ALTER TABLE pipelines RENAME COLUMN webhook_secret_hash TO webhook_secret_salt;
ALTER TABLE pipelines ADD COLUMN created_by_id uuid REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE pipelines ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

-- Used when OURO_SECRET_KEY is not set: a random key generated on first use, per instance.
CREATE TABLE instance_keys (
  name        text PRIMARY KEY,
  value       text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- pipelineRunUpdated's cursor. Writers of one pipeline take turns (advisory lock on the
-- pipeline) before drawing from it, so within a pipeline it grows in commit order.
CREATE SEQUENCE pipeline_run_seq;

ALTER TABLE pipeline_runs DROP COLUMN steps;
ALTER TABLE pipeline_runs ADD COLUMN spec jsonb NOT NULL DEFAULT '{}';
ALTER TABLE pipeline_runs ADD COLUMN params jsonb NOT NULL DEFAULT '{}';
ALTER TABLE pipeline_runs ADD COLUMN force boolean NOT NULL DEFAULT false;
ALTER TABLE pipeline_runs ADD COLUMN error text;
ALTER TABLE pipeline_runs ADD COLUMN created_by_id uuid REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE pipeline_runs ADD COLUMN idempotency_key text;
ALTER TABLE pipeline_runs ADD COLUMN started_at timestamptz;
ALTER TABLE pipeline_runs ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE pipeline_runs ADD COLUMN seq bigint NOT NULL DEFAULT nextval('pipeline_run_seq');
-- The same trigger event (cron minute, dataset version, alert, webhook delivery) starts one run.
CREATE UNIQUE INDEX pipeline_runs_idempotency_idx ON pipeline_runs (pipeline_id, idempotency_key);
CREATE INDEX pipeline_runs_active_idx ON pipeline_runs (created_at) WHERE status IN ('queued', 'running');
CREATE INDEX pipeline_runs_seq_idx ON pipeline_runs (pipeline_id, seq);

CREATE TABLE pipeline_run_steps (
  id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id       uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  pipeline_run_id  uuid NOT NULL REFERENCES pipeline_runs(id) ON DELETE CASCADE,
  step_id          text NOT NULL,
  kind             text NOT NULL,
  -- pending | running | succeeded | failed | skipped | cancelled
  status           text NOT NULL DEFAULT 'pending',
  position         integer NOT NULL,
  inputs           jsonb,
  -- sha256 of kind + resolved inputs: equal hashes reuse outputs (unless the run is forced)
  input_hash       text,
  outputs          jsonb,
  job_id           uuid REFERENCES jobs(id) ON DELETE SET NULL,
  cache_hit        boolean NOT NULL DEFAULT false,
  error            text,
  started_at       timestamptz,
  finished_at      timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (pipeline_run_id, step_id)
);
CREATE INDEX pipeline_run_steps_project_id_idx ON pipeline_run_steps (project_id);
CREATE INDEX pipeline_run_steps_cache_idx ON pipeline_run_steps (project_id, kind, input_hash, finished_at DESC) WHERE status = 'succeeded';
CREATE INDEX pipeline_run_steps_job_idx ON pipeline_run_steps (job_id) WHERE job_id IS NOT NULL;
