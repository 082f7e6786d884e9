-- Re-checked under the lock: a job may have been retried since it was found.
SELECT id FROM oban_jobs FORCE INDEX (PRIMARY)
WHERE id IN %(ids)s
  AND ((state = 'completed' AND completed_at < %(before)s)
       OR (state = 'cancelled' AND cancelled_at < %(before)s)
       OR (state = 'discarded' AND discarded_at < %(before)s))
ORDER BY id
FOR UPDATE
