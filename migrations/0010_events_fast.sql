-- Events, cheaper per event (see server/src/domains/events/README.md, "Windows").
--
-- The minute buckets leave the database: each server process keeps them in memory, valid for
-- one generation of the feature set's window state, and rebuilds an entity's buckets from its
-- event history when it does not have them (a restart, another process updated the feature
-- set since, or the entity was evicted). That takes a bucket upsert per event off the hot
-- path; the history needs an index by entity to be read back cheaply.

-- Bumped by every transaction that updates the feature set's windows (under its ingest lock):
-- a process's buckets are valid only while the generation is the one it last wrote or read.
ALTER TABLE event_sources ADD COLUMN generation bigint NOT NULL DEFAULT 0;

-- An entity's events within its longest window, for rebuilding its buckets.
CREATE INDEX events_entity_time_idx ON events (feature_set_id, entity_key, event_time);

DROP TABLE event_buckets;

-- The dedup table keeps only what deduplication needs: narrower rows, cheaper inserts.
ALTER TABLE event_ids DROP COLUMN event_time;
