SELECT id, state FROM oban_jobs
WHERE id IN %(ids)s AND state NOT IN ('completed', 'discarded', 'cancelled')
ORDER BY id
FOR UPDATE
