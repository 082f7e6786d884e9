-- After the connection died during a claim's COMMIT: do the rows carry that claim?
SELECT id, attempt, attempted_at, attempted_by FROM oban_jobs FORCE INDEX (PRIMARY)
WHERE id IN %(ids)s
