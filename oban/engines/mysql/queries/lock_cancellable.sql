SELECT id, state FROM oban_jobs FORCE INDEX (PRIMARY)
WHERE id IN %(ids)s AND state NOT IN ('completed', 'discarded', 'cancelled')
ORDER BY id
FOR UPDATE
