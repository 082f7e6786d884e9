DROP INDEX IF EXISTS oban_jobs_uniq_key_index;
DROP INDEX IF EXISTS oban_jobs_state_completed_at_index;
DROP INDEX IF EXISTS oban_jobs_state_cancelled_at_index;
DROP INDEX IF EXISTS oban_jobs_state_discarded_at_index;
