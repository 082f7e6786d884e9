UPDATE oban_jobs
SET state = 'executing',
    attempt = attempt + 1,
    attempted_at = %(now)s,
    attempted_by = JSON_ARRAY_APPEND(COALESCE(attempted_by, '[]'), '$', %(node)s)
WHERE id IN %(ids)s
