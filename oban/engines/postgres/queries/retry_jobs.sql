UPDATE oban_jobs
SET state = 'available',
    scheduled_at = $2::timestamp,
    max_attempts = greatest(max_attempts, attempt + 1),
    completed_at = NULL,
    cancelled_at = NULL,
    discarded_at = NULL
WHERE id = ANY($1::bigint[]) AND state NOT IN ('available', 'executing')
