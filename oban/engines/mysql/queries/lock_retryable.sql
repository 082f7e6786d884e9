SELECT id FROM oban_jobs FORCE INDEX (PRIMARY)
WHERE id IN %(ids)s AND state NOT IN ('available', 'executing')
ORDER BY id
FOR UPDATE
