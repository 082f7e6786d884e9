UPDATE oban_jobs
SET state = 'discarded', discarded_at = %(now)s
WHERE state = 'executing' AND attempted_at < %(before)s AND attempt >= max_attempts
