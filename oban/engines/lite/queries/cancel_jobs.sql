UPDATE oban_jobs
SET state = 'cancelled', cancelled_at = :now
WHERE id IN (SELECT value FROM json_each(:ids))
  AND state NOT IN ('completed', 'discarded', 'cancelled')
