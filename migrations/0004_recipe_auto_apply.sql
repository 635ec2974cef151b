-- A fitted recipe can follow a dataset: each new version of `auto_apply_source_id` is run
-- through it into a new version of `auto_apply_output_id`.
ALTER TABLE recipes
  ADD COLUMN auto_apply_source_id uuid REFERENCES datasets(id) ON DELETE SET NULL,
  ADD COLUMN auto_apply_output_id uuid REFERENCES datasets(id) ON DELETE SET NULL;
