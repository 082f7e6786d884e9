UPDATE oban_jobs
SET state = 'available',
    errors = JSON_ARRAY_APPEND(COALESCE(errors, '[]'), '$',
                               JSON_OBJECT('at', %(at)s, 'attempt', attempt, 'error', %(error)s))
WHERE state = 'executing' AND attempted_at < %(before)s
