-- Make due scheduled and retryable jobs (of queue $3, when given) available; return each queue
-- that gained jobs once.
WITH due AS (
    SELECT id
    FROM oban_jobs
    WHERE state IN ('scheduled', 'retryable') AND scheduled_at <= $1::timestamp
      AND ($3::text IS NULL OR queue = $3::text)
    LIMIT $2
    FOR UPDATE SKIP LOCKED
), staged AS (
    UPDATE oban_jobs AS j
    SET state = 'available'
    FROM due
    WHERE j.id = due.id
    RETURNING j.queue
)
SELECT DISTINCT queue FROM staged
