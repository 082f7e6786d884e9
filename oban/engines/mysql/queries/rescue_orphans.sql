UPDATE oban_jobs
SET state = 'available'
WHERE state = 'executing' AND attempted_at < %(before)s
