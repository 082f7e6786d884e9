UPDATE oban_jobs
SET state = 'available',
    scheduled_at = :now,
    max_attempts = max(max_attempts, attempt + 1),
    completed_at = NULL,
    cancelled_at = NULL,
    discarded_at = NULL
WHERE id IN (SELECT value FROM json_each(:ids))
  AND state NOT IN ('available', 'executing')
