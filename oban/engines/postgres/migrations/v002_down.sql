ALTER TABLE oban_jobs DROP CONSTRAINT IF EXISTS queue_length;
ALTER TABLE oban_jobs DROP CONSTRAINT IF EXISTS worker_length;
DROP INDEX IF EXISTS oban_jobs_scheduled_at_index;
CREATE INDEX oban_jobs_scheduled_at_index ON oban_jobs (scheduled_at);
DROP FUNCTION IF EXISTS oban_wrap_id(bigint);
