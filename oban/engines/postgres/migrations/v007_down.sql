DROP INDEX IF EXISTS oban_jobs_attempted_at_id_index;
