UPDATE oban_jobs
SET state = 'executing',
    attempt = attempt + 1,
    attempted_at = %(now)s,
    attempted_by = %(attempted_by)s
WHERE id IN %(ids)s
