-- Oban v9: meta, cancelled_at and the cancelled state.
ALTER TABLE oban_jobs ADD COLUMN IF NOT EXISTS meta jsonb DEFAULT '{}'::jsonb;
ALTER TABLE oban_jobs ADD COLUMN IF NOT EXISTS cancelled_at timestamp;
ALTER TYPE oban_job_state ADD VALUE IF NOT EXISTS 'cancelled';
CREATE INDEX IF NOT EXISTS oban_jobs_state_queue_priority_scheduled_at_id_index
    ON oban_jobs (state, queue, priority, scheduled_at, id);
