-- Oban v13: pruning finds cancelled and discarded jobs by time.
CREATE INDEX IF NOT EXISTS oban_jobs_state_cancelled_at_index ON oban_jobs (state, cancelled_at);
CREATE INDEX IF NOT EXISTS oban_jobs_state_discarded_at_index ON oban_jobs (state, discarded_at);
