-- Online serving: deployments get a revision (bumped on every graph or traffic change, so
-- replicas know when to reload), and every prediction is logged.
--
-- prediction_log is written in batches by COPY from a bounded in-memory buffer. Like
-- metric_points it has no foreign key (the check would cost on the hot path); a statement
-- trigger removes a deployment's rows when the deployment goes.

ALTER TABLE deployments ADD COLUMN revision integer NOT NULL DEFAULT 1;
ALTER TABLE deployments ADD COLUMN created_by_id uuid REFERENCES users(id) ON DELETE SET NULL;

CREATE TABLE prediction_log (
  seq               bigserial,
  deployment_id     uuid NOT NULL,
  project_id        uuid NOT NULL,
  request_id        text NOT NULL,
  -- which version answered; for a shadow row, the version that was mirrored to
  model_version_id  uuid NOT NULL,
  -- 'primary' rows were returned to the caller, 'shadow' rows were computed and only logged
  role              text NOT NULL CHECK (role IN ('primary', 'shadow')),
  -- one row of input features as the caller sent them
  inputs            jsonb NOT NULL,
  -- {prediction, probabilities?}
  outputs           jsonb NOT NULL,
  latency_ms        real NOT NULL,
  at                timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (deployment_id, seq)
);
CREATE INDEX prediction_log_time_idx ON prediction_log (deployment_id, at);
CREATE INDEX prediction_log_request_idx ON prediction_log (deployment_id, request_id);

-- Ground truth arrives later and separately; monitors join it by (deployment, request id).
CREATE TABLE prediction_labels (
  deployment_id  uuid NOT NULL,
  request_id     text NOT NULL,
  label          jsonb NOT NULL,
  at             timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (deployment_id, request_id)
);

CREATE FUNCTION ouro_delete_deployment_predictions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM prediction_log p USING gone WHERE p.deployment_id = gone.id;
  DELETE FROM prediction_labels l USING gone WHERE l.deployment_id = gone.id;
  RETURN NULL;
END $$;

CREATE TRIGGER deployments_delete_predictions AFTER DELETE ON deployments
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION ouro_delete_deployment_predictions();
