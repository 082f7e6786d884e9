-- Oban v3: the nodes that attempted a job.
ALTER TABLE oban_jobs ADD COLUMN IF NOT EXISTS attempted_by text[];
