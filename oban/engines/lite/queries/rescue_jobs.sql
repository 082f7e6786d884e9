UPDATE oban_jobs
SET state = CASE WHEN attempt >= max_attempts THEN 'discarded' ELSE 'available' END,
    discarded_at = CASE WHEN attempt >= max_attempts THEN :now ELSE discarded_at END,
    errors = json_insert(coalesce(errors, '[]'), '$[#]',
                         json_object('at', :now, 'attempt', attempt, 'error', :error))
WHERE state = 'executing' AND attempted_at < :before
RETURNING state
