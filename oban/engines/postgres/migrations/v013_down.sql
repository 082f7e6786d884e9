DROP INDEX IF EXISTS oban_jobs_state_cancelled_at_index;
DROP INDEX IF EXISTS oban_jobs_state_discarded_at_index;
