-- The ids were locked and checked by lock_retryable in the same transaction.
UPDATE oban_jobs
SET state = 'available',
    scheduled_at = %(now)s,
    max_attempts = GREATEST(max_attempts, attempt + 1),
    completed_at = NULL,
    cancelled_at = NULL,
    discarded_at = NULL
WHERE id IN %(ids)s
