-- Monitoring: monitors evaluated over windows of the prediction log, their results as a time
-- series, alert rules on those results, alerts with a lifecycle and an event log that
-- subscriptions resume from.

-- A monitor's reference (normally the training data of the deployed model version) and its
-- evaluation settings (kinds, features, window, thresholds) live in `config`.
ALTER TABLE monitors ADD COLUMN reference_version_id uuid REFERENCES dataset_versions(id) ON DELETE SET NULL;
ALTER TABLE monitors ADD COLUMN created_by_id uuid REFERENCES users(id) ON DELETE SET NULL;

-- One row per evaluated window. `seq` orders results for monitorUpdates cursors; writers of
-- one monitor take turns (advisory lock), so seq follows commit order. `window_key` makes an
-- evaluation idempotent: a retried job finds its window already stored.
CREATE TABLE monitor_results (
  seq           bigserial PRIMARY KEY,
  monitor_id    uuid NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
  project_id    uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  window_key    text NOT NULL,
  window_start  timestamptz,
  window_end    timestamptz,
  -- prediction_log seq range the window covered (count windows continue after last_seq)
  first_seq     bigint,
  last_seq      bigint,
  predictions   integer NOT NULL,
  status        text NOT NULL CHECK (status IN ('ok', 'potential_drift', 'detected', 'no_data')),
  drift_score   double precision,
  -- {features: [...], prediction, performance, quality}
  details       jsonb NOT NULL DEFAULT '{}',
  evaluated_at  timestamptz NOT NULL DEFAULT now(),
  UNIQUE (monitor_id, window_key)
);
CREATE INDEX monitor_results_monitor_idx ON monitor_results (monitor_id, seq);

CREATE TABLE alert_rules (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id      uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  monitor_id      uuid NOT NULL REFERENCES monitors(id) ON DELETE CASCADE,
  name            text NOT NULL,
  -- 'status', 'driftScore', 'feature:<name>', 'prediction', 'performance.<metric>', 'quality.<metric>'
  metric          text NOT NULL,
  direction       text NOT NULL CHECK (direction IN ('above', 'below')),
  threshold       double precision NOT NULL,
  for_windows     integer NOT NULL CHECK (for_windows BETWEEN 1 AND 1000),
  severity        text NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
  webhook_url     text,
  -- HMAC-SHA256 key for webhook signatures; shown to the user once, at creation
  webhook_secret  text,
  enabled         boolean NOT NULL DEFAULT true,
  created_by_id   uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (monitor_id, name)
);
CREATE INDEX alert_rules_project_idx ON alert_rules (project_id);

ALTER TABLE alerts ADD COLUMN rule_id uuid REFERENCES alert_rules(id) ON DELETE CASCADE;
ALTER TABLE alerts ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
-- At most one open (firing or acknowledged) alert per rule.
CREATE UNIQUE INDEX alerts_open_per_rule ON alerts (rule_id) WHERE state <> 'resolved';

-- Every state change of every alert, in commit order per project (alertEvents' cursor).
CREATE TABLE alert_events (
  seq         bigserial PRIMARY KEY,
  project_id  uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  alert_id    uuid NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
  rule_id     uuid REFERENCES alert_rules(id) ON DELETE SET NULL,
  state       text NOT NULL CHECK (state IN ('firing', 'acknowledged', 'resolved')),
  actor_id    uuid REFERENCES users(id) ON DELETE SET NULL,
  data        jsonb NOT NULL DEFAULT '{}',
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_events_project_idx ON alert_events (project_id, seq);
