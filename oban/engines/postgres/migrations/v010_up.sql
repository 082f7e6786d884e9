-- Oban v10: defaults and checks that older servers could not add cheaply; GIN indexes that
-- keep unique lookups fast; unused indexes go.
ALTER TABLE oban_jobs ALTER COLUMN args SET DEFAULT '{}'::jsonb;
UPDATE oban_jobs SET priority = 0 WHERE priority IS NULL;
ALTER TABLE oban_jobs ALTER COLUMN priority SET NOT NULL;

ALTER TABLE oban_jobs ADD CONSTRAINT positive_max_attempts CHECK (max_attempts > 0);
ALTER TABLE oban_jobs ADD CONSTRAINT attempt_range CHECK (attempt BETWEEN 0 AND max_attempts);
ALTER TABLE oban_jobs ADD CONSTRAINT priority_range CHECK (priority BETWEEN 0 AND 3) NOT VALID;

DROP INDEX IF EXISTS oban_jobs_args_vector;
DROP INDEX IF EXISTS oban_jobs_worker_gist;
DROP INDEX IF EXISTS oban_jobs_attempted_at_id_index;

CREATE INDEX IF NOT EXISTS oban_jobs_args_index ON oban_jobs USING gin (args);
CREATE INDEX IF NOT EXISTS oban_jobs_meta_index ON oban_jobs USING gin (meta);
