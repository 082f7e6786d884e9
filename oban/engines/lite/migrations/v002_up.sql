-- Unique jobs look up their key; pruning and rescue look up finished and executing jobs by time.
CREATE INDEX IF NOT EXISTS oban_jobs_uniq_key_index
    ON oban_jobs (json_extract(meta, '$.uniq_key'))
    WHERE json_extract(meta, '$.uniq_key') IS NOT NULL;
CREATE INDEX IF NOT EXISTS oban_jobs_state_completed_at_index ON oban_jobs (state, completed_at);
CREATE INDEX IF NOT EXISTS oban_jobs_state_cancelled_at_index ON oban_jobs (state, cancelled_at);
CREATE INDEX IF NOT EXISTS oban_jobs_state_discarded_at_index ON oban_jobs (state, discarded_at);
