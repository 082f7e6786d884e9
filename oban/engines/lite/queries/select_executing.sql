SELECT id FROM oban_jobs
WHERE id IN (SELECT value FROM json_each(:ids)) AND state = 'executing'
ORDER BY id
