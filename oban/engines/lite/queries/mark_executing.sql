UPDATE oban_jobs
SET state = 'executing',
    attempt = attempt + 1,
    attempted_at = :now,
    attempted_by = :attempted_by
WHERE id IN (SELECT value FROM json_each(:ids))
