-- Re-checked here: a job may have been retried since it was found.
DELETE FROM oban_jobs
WHERE id IN %(ids)s
  AND ((state = 'completed' AND completed_at < %(before)s)
       OR (state = 'cancelled' AND cancelled_at < %(before)s)
       OR (state = 'discarded' AND discarded_at < %(before)s))
