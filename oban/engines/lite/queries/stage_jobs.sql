UPDATE oban_jobs
SET state = 'available'
WHERE id IN (
    SELECT id FROM oban_jobs
    WHERE state IN ('scheduled', 'retryable') AND scheduled_at <= :now
      AND (:queue IS NULL OR queue = :queue)
    ORDER BY scheduled_at, id
    LIMIT :limit
)
RETURNING queue
