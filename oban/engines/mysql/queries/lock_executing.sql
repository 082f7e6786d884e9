-- By primary key only: through the state index this would lock (and wait for) other nodes' jobs.
SELECT id, attempt FROM oban_jobs FORCE INDEX (PRIMARY)
WHERE id IN %(ids)s AND state = 'executing'
ORDER BY id
FOR UPDATE
