-- Oban v12: any non-negative priority; inserts are announced by the application, not a trigger.
ALTER TABLE oban_jobs DROP CONSTRAINT IF EXISTS priority_range;
ALTER TABLE oban_jobs ADD CONSTRAINT non_negative_priority CHECK (priority >= 0) NOT VALID;
DROP TRIGGER IF EXISTS oban_notify ON oban_jobs;
DROP FUNCTION IF EXISTS oban_jobs_notify();
