-- Oban v7: finished jobs by attempt time, for pruning.
CREATE INDEX IF NOT EXISTS oban_jobs_attempted_at_id_index
    ON oban_jobs (attempted_at DESC, id)
    WHERE state IN ('completed', 'discarded');
