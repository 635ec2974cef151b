-- metric_points is the hottest table: every logMetrics batch inserts up to 10,000 rows.
-- Measured on 1,000-row batches (bench/metric-insert-cost.ts): the foreign key check and one
-- of the three indexes cost about half of the insert. So:
--   * the primary key becomes (run_id, seq), which also serves the subscription feed, and the
--     separate (run_id, seq) index goes;
--   * the foreign key to runs goes; a run's points are removed by a statement trigger when
--     runs are deleted (also through project deletion), and writers check the run exists and
--     is running under the run's lock before inserting.

ALTER TABLE metric_points DROP CONSTRAINT metric_points_run_id_fkey;
ALTER TABLE metric_points DROP CONSTRAINT metric_points_pkey;
ALTER TABLE metric_points ADD PRIMARY KEY (run_id, seq);
DROP INDEX metric_points_run_seq_idx;

CREATE FUNCTION ouro_delete_run_points() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM metric_points p USING gone WHERE p.run_id = gone.id;
  RETURN NULL;
END $$;

CREATE TRIGGER runs_delete_points AFTER DELETE ON runs
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION ouro_delete_run_points();
