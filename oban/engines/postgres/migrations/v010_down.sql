DROP INDEX IF EXISTS oban_jobs_args_index;
DROP INDEX IF EXISTS oban_jobs_meta_index;
CREATE INDEX IF NOT EXISTS oban_jobs_attempted_at_id_index
    ON oban_jobs (attempted_at DESC, id)
    WHERE state IN ('completed', 'discarded');

ALTER TABLE oban_jobs DROP CONSTRAINT IF EXISTS priority_range;
ALTER TABLE oban_jobs DROP CONSTRAINT IF EXISTS attempt_range;
ALTER TABLE oban_jobs DROP CONSTRAINT IF EXISTS positive_max_attempts;

ALTER TABLE oban_jobs ALTER COLUMN priority DROP NOT NULL;
ALTER TABLE oban_jobs ALTER COLUMN args DROP DEFAULT;
