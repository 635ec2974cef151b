-- runs(parentRunId:): a search's trials without scanning the project's runs.
CREATE INDEX runs_parent_run_id_idx ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
