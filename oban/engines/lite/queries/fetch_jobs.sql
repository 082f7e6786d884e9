UPDATE oban_jobs
SET state = 'executing',
    attempt = attempt + 1,
    attempted_at = :now,
    attempted_by = :attempted_by
WHERE id IN (
    SELECT id
    FROM oban_jobs
    WHERE state = 'available' AND queue = :queue AND attempt < max_attempts
    ORDER BY priority, scheduled_at, id
    LIMIT :demand
)
RETURNING id, state, queue, worker, args, meta, tags, errors, attempted_by, attempt,
          max_attempts, priority, inserted_at, scheduled_at, attempted_at, completed_at,
          cancelled_at, discarded_at
