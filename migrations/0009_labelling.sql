-- Labelling: a task picks rows of a dataset version or of a deployment's prediction log into
-- a queue of items; labellers give each item labels; an export writes the majority labels as
-- a new dataset version (and, for the prediction log, into prediction_labels).

CREATE TABLE labelling_tasks (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  project_id         uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  name               text NOT NULL,
  -- {kind: "datasetVersion", versionId} | {kind: "predictionLog", deploymentId, from, to, role}
  source             jsonb NOT NULL,
  source_version_id  uuid REFERENCES dataset_versions(id) ON DELETE SET NULL,
  deployment_id      uuid REFERENCES deployments(id) ON DELETE CASCADE,
  -- {kind: "classes" | "multiLabel", classes: [...]} | {kind: "numeric", min, max}
  label_schema       jsonb NOT NULL,
  label_column       text NOT NULL DEFAULT 'label',
  -- {strategy: "random", seed} | {strategy: "leastConfident", modelVersionId, seed} | {strategy: "disagreement", ...}
  selection          jsonb NOT NULL,
  size               integer NOT NULL CHECK (size BETWEEN 1 AND 100000),
  labels_per_row     integer NOT NULL CHECK (labels_per_row BETWEEN 1 AND 20),
  -- who may label; empty means every editor of the project
  assignee_ids       uuid[] NOT NULL DEFAULT '{}',
  status             text NOT NULL DEFAULT 'building' CHECK (status IN ('building', 'ready', 'failed')),
  error              text,
  build_job_id       uuid,
  -- bumped on every change a progress follower should hear of; labellingProgress's cursor
  revision           bigint NOT NULL DEFAULT 1,
  created_by_id      uuid REFERENCES users(id) ON DELETE SET NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (project_id, name)
);
CREATE INDEX labelling_tasks_project_id_idx ON labelling_tasks (project_id);

CREATE TABLE labelling_items (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  task_id      uuid NOT NULL REFERENCES labelling_tasks(id) ON DELETE CASCADE,
  -- queue order: the selection's ranking (random order, least confident first, ...)
  position     integer NOT NULL,
  -- where the row came from: a row of the source version, or a logged request
  row_index    bigint,
  request_id   text,
  -- the row as it was when the queue was built, so labellers see what they label
  "values"     jsonb NOT NULL,
  -- what the selection ranked by (the model's top probability, the disagreement share, ...)
  score        double precision,
  -- a model's prediction for the row, when the selection or the source has one
  prediction   jsonb,
  -- labels given (skips excluded); kept here so the queue can be ordered without a join
  label_count  integer NOT NULL DEFAULT 0,
  UNIQUE (task_id, position)
);
CREATE INDEX labelling_items_queue_idx ON labelling_items (task_id, label_count, position);

CREATE TABLE labelling_labels (
  item_id     uuid NOT NULL REFERENCES labelling_items(id) ON DELETE CASCADE,
  user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  task_id     uuid NOT NULL REFERENCES labelling_tasks(id) ON DELETE CASCADE,
  -- null exactly when skipped
  value       jsonb,
  skipped     boolean NOT NULL DEFAULT false,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (item_id, user_id),
  CHECK ((value IS NULL) = skipped)
);
CREATE INDEX labelling_labels_task_idx ON labelling_labels (task_id);

-- Items handed to a labeller by nextLabellingItems and not yet answered. A live claim counts
-- towards the item's labels_per_row, so two labellers are not sent the last slot of one row;
-- an expired claim simply stops counting.
CREATE TABLE labelling_claims (
  item_id     uuid NOT NULL REFERENCES labelling_items(id) ON DELETE CASCADE,
  user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  task_id     uuid NOT NULL REFERENCES labelling_tasks(id) ON DELETE CASCADE,
  expires_at  timestamptz NOT NULL,
  PRIMARY KEY (item_id, user_id)
);
CREATE INDEX labelling_claims_task_idx ON labelling_claims (task_id, user_id);
