DROP INDEX IF EXISTS oban_jobs_state_attempted_at_index;
DROP TABLE IF EXISTS oban_producers;
