-- Events: append-only history of an event feature set, and the state that keeps its
-- streaming window aggregations exact (see server/src/domains/events/README.md).

-- What an event feature set's events look like and which window aggregations it serves.
-- The feature set row itself (feature_sets) keeps the entity keys, the event-time column
-- (timestamp_column) and the aggregation names (features), so buildTrainingSet and
-- onlineFeatures treat it like any other feature set.
CREATE TABLE event_sources (
  feature_set_id           uuid PRIMARY KEY REFERENCES feature_sets(id) ON DELETE CASCADE,
  project_id               uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  event_id_column          text NOT NULL,
  -- [{name, type}] with type in string | integer | float | boolean; entity keys included.
  fields                   jsonb NOT NULL,
  -- [{name, function, field, windowMinutes}]
  aggregations             jsonb NOT NULL,
  allowed_lateness_seconds integer NOT NULL CHECK (allowed_lateness_seconds >= 0),
  max_future_skew_seconds  integer NOT NULL CHECK (max_future_skew_seconds >= 0),
  -- The latest event time accepted; events older than watermark - allowed lateness are refused.
  watermark                timestamptz,
  created_at               timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_sources_project_id_idx ON event_sources (project_id);

-- The history, partitioned by event day; partitions are created on demand by the ingest path.
-- No foreign keys on the hot tables: a per-row FK check costs throughput, and rows of a
-- deleted feature set are harmless (nothing reads them without the feature set).
CREATE TABLE events (
  feature_set_id uuid NOT NULL,
  event_id       text NOT NULL,
  entity_key     text NOT NULL,
  event_time     timestamptz NOT NULL,
  ingested_at    timestamptz NOT NULL DEFAULT now(),
  payload        jsonb NOT NULL
) PARTITION BY RANGE (event_time);
CREATE INDEX events_feature_set_time_idx ON events (feature_set_id, event_time);

-- Deduplication by event id. A unique index on the partitioned table would have to include
-- event_time, so the same id with another time would slip through; this table does not.
CREATE TABLE event_ids (
  feature_set_id uuid NOT NULL,
  event_id       text NOT NULL,
  event_time     timestamptz NOT NULL,
  PRIMARY KEY (feature_set_id, event_id)
);

-- Per-entity per-minute partial aggregates; window values are recomputed from them. An
-- entity's latest event time is its online_features.event_time. Buckets older than the
-- longest window before that are deleted by a periodic sweep.
CREATE TABLE event_buckets (
  feature_set_id uuid NOT NULL,
  entity_key     text NOT NULL,
  minute         timestamptz NOT NULL,
  stats          jsonb NOT NULL,
  PRIMARY KEY (feature_set_id, entity_key, minute)
);
