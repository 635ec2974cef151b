-- External event streams: an event feature set may be fed from a NATS JetStream durable pull
-- consumer (see server/src/domains/events/README.md, "External streams"). The NATS servers
-- come from the worker's OURO_NATS_URL; this row says which stream, subject and durable
-- consumer to read, and keeps the consumer's status and counters for the API.

CREATE TABLE event_streams (
  -- one attachment; a new attach after a detach is a new row (a consumer that still runs for
  -- an old attachment can tell from the id that it must stop)
  id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  feature_set_id    uuid NOT NULL UNIQUE REFERENCES event_sources(feature_set_id) ON DELETE CASCADE,
  project_id        uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  stream_name       text NOT NULL,
  -- NULL: every subject of the stream
  subject_filter    text,
  durable_name      text NOT NULL,
  -- 'first': from the stream's first message; 'new': only messages published after the
  -- durable consumer is created (either way it resumes where it stopped afterwards)
  start_from        text NOT NULL DEFAULT 'first' CHECK (start_from IN ('first', 'new')),
  ack_wait_seconds  integer NOT NULL CHECK (ack_wait_seconds BETWEEN 1 AND 3600),
  batch_size        integer NOT NULL CHECK (batch_size BETWEEN 1 AND 10000),
  attached_by_id    uuid REFERENCES users(id) ON DELETE SET NULL,
  attached_at       timestamptz NOT NULL DEFAULT now(),
  -- Status, written by the worker that holds the source's advisory lock.
  -- pending (no worker yet) | starting | connected | disconnected | error
  state             text NOT NULL DEFAULT 'pending',
  consumer_host     text,
  status_at         timestamptz,
  lag               bigint,
  last_error        text,
  last_error_at     timestamptz,
  last_sequence     bigint,
  last_message_at   timestamptz,
  -- Counters since attach (updated after each batch commits; a crash between the commit and
  -- this update loses one batch's increments, never events).
  messages          bigint NOT NULL DEFAULT 0,
  accepted          bigint NOT NULL DEFAULT 0,
  duplicates        bigint NOT NULL DEFAULT 0,
  rejected          bigint NOT NULL DEFAULT 0
);
CREATE INDEX event_streams_project_id_idx ON event_streams (project_id);
-- Two feature sets reading one durable consumer would each get part of the messages.
CREATE UNIQUE INDEX event_streams_durable_idx ON event_streams (stream_name, durable_name);

-- The latest rejected messages of an attachment, with reasons (the consumer keeps the newest
-- 100; they are acked, never redelivered).
CREATE TABLE event_stream_rejections (
  id               bigserial PRIMARY KEY,
  stream_id        uuid NOT NULL REFERENCES event_streams(id) ON DELETE CASCADE,
  stream_sequence  bigint NOT NULL,
  subject          text NOT NULL,
  event_id         text,
  reason           text NOT NULL,
  -- the first 500 characters of the message, for a person to look at
  excerpt          text NOT NULL,
  rejected_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX event_stream_rejections_stream_idx ON event_stream_rejections (stream_id, id);
