DROP TRIGGER IF EXISTS oban_notify ON oban_jobs;
DROP FUNCTION IF EXISTS oban_jobs_notify();
DROP TABLE IF EXISTS oban_jobs;
DROP TYPE IF EXISTS oban_job_state;
