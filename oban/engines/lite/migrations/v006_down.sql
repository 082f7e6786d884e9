DROP INDEX IF EXISTS oban_jobs_state_completed_at_index;
DROP INDEX IF EXISTS oban_jobs_state_cancelled_at_index;
DROP INDEX IF EXISTS oban_jobs_state_discarded_at_index;
DROP INDEX IF EXISTS oban_jobs_state_attempted_at_index;
CREATE INDEX IF NOT EXISTS oban_jobs_state_completed_at_index ON oban_jobs (state, completed_at);
CREATE INDEX IF NOT EXISTS oban_jobs_state_cancelled_at_index ON oban_jobs (state, cancelled_at);
CREATE INDEX IF NOT EXISTS oban_jobs_state_discarded_at_index ON oban_jobs (state, discarded_at);
CREATE INDEX IF NOT EXISTS oban_jobs_state_attempted_at_index ON oban_jobs (state, attempted_at);
