UPDATE oban_jobs
SET state = CASE WHEN attempt >= max_attempts THEN 'discarded' ELSE 'available' END,
    discarded_at = CASE WHEN attempt >= max_attempts THEN :now ELSE discarded_at END
WHERE state = 'executing' AND attempted_at < :before
RETURNING state
