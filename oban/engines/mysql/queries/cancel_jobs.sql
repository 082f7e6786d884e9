UPDATE oban_jobs
SET state = 'cancelled', cancelled_at = %(now)s
WHERE id IN %(ids)s AND state NOT IN ('completed', 'discarded', 'cancelled')
