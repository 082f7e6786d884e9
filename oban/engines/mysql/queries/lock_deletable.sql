SELECT id FROM oban_jobs FORCE INDEX (PRIMARY)
WHERE id IN %(ids)s AND state != 'executing'
ORDER BY id
FOR UPDATE
