SELECT id, attempt FROM oban_jobs
WHERE id IN %(ids)s AND state = 'executing'
ORDER BY id
FOR UPDATE
