DROP INDEX IF EXISTS oban_jobs_queue_state_scheduled_at_id_index;
CREATE INDEX IF NOT EXISTS oban_jobs_queue_index ON oban_jobs (queue);
CREATE INDEX IF NOT EXISTS oban_jobs_state_index ON oban_jobs (state);
CREATE INDEX IF NOT EXISTS oban_jobs_scheduled_at_index ON oban_jobs (scheduled_at)
    WHERE state IN ('available', 'scheduled');
