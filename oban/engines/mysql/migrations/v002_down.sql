DROP TABLE IF EXISTS oban_notifications;
DROP TABLE IF EXISTS oban_unique_locks;
DROP INDEX oban_jobs_completed_at_index ON oban_jobs;
DROP INDEX oban_jobs_uniq_key_index ON oban_jobs;
ALTER TABLE oban_jobs DROP COLUMN uniq_key;
