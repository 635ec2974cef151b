-- Feature store: where a feature set's data comes from, its offline store (a dataset of
-- Parquet versions) and its online store (the latest values per entity, read by serving).

ALTER TABLE feature_sets
  ADD COLUMN source_dataset_id uuid REFERENCES datasets(id) ON DELETE SET NULL,
  ADD COLUMN offline_dataset_id uuid REFERENCES datasets(id) ON DELETE SET NULL,
  ADD COLUMN materialized_version_id uuid REFERENCES dataset_versions(id) ON DELETE SET NULL,
  ADD COLUMN materialized_at timestamptz,
  -- Re-materialize when the source dataset gets a new version.
  ADD COLUMN auto_materialize boolean NOT NULL DEFAULT false;

-- One row per entity: its latest feature values. An older event never replaces a newer one.
CREATE TABLE online_features (
  feature_set_id  uuid NOT NULL REFERENCES feature_sets(id) ON DELETE CASCADE,
  entity_key      text NOT NULL,
  event_time      timestamptz,
  "values"        jsonb NOT NULL,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (feature_set_id, entity_key)
);
