-- Oban v5: one composite index for fetching replaces three single-column ones.
DROP INDEX IF EXISTS oban_jobs_scheduled_at_index;
DROP INDEX IF EXISTS oban_jobs_queue_index;
DROP INDEX IF EXISTS oban_jobs_state_index;
CREATE INDEX IF NOT EXISTS oban_jobs_queue_state_scheduled_at_id_index
    ON oban_jobs (queue, state, scheduled_at, id);
