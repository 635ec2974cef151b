-- Wrong API tokens per client address, counted across every Ouro process on this database
-- (platform/auth-limiter.ts). Unlogged: a crash may forget a window, which only lets a guesser
-- start counting again.
CREATE UNLOGGED TABLE auth_failures (
  client text PRIMARY KEY,
  failures integer NOT NULL,
  window_end timestamptz NOT NULL
);
CREATE INDEX auth_failures_window_end_idx ON auth_failures (window_end);
