-- The first half of staging; locked rows are left for the next run.
SELECT id, queue FROM oban_jobs
WHERE state IN ('scheduled', 'retryable') AND scheduled_at <= %(now)s
  AND (%(queue)s IS NULL OR queue = %(queue)s)
ORDER BY scheduled_at, id
LIMIT %(limit)s
FOR UPDATE SKIP LOCKED
