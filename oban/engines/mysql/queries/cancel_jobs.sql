-- The ids were locked and checked by lock_cancellable in the same transaction.
UPDATE oban_jobs
SET state = 'cancelled', cancelled_at = %(now)s
WHERE id IN %(ids)s
