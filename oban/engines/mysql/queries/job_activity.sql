-- Jobs finished at or after since, per bucket seconds, queue and state, each state
-- dated by its own timestamp; completions read oban_jobs_completed_at_index, the others the
-- index that leads with state. TIMESTAMPDIFF counts whole seconds from the epoch whatever the
-- session's time zone (DATETIME columns hold UTC).
SELECT TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', completed_at) DIV %(bucket)s * %(bucket)s AS start,
       queue, 'completed' AS state, COUNT(*) AS n
FROM oban_jobs
WHERE state = 'completed' AND completed_at >= %(since)s
GROUP BY start, queue
UNION ALL
SELECT TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', discarded_at) DIV %(bucket)s * %(bucket)s AS start,
       queue, 'discarded' AS state, COUNT(*) AS n
FROM oban_jobs
WHERE state = 'discarded' AND discarded_at >= %(since)s
GROUP BY start, queue
UNION ALL
SELECT TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', cancelled_at) DIV %(bucket)s * %(bucket)s AS start,
       queue, 'cancelled' AS state, COUNT(*) AS n
FROM oban_jobs
WHERE state = 'cancelled' AND cancelled_at >= %(since)s
GROUP BY start, queue
UNION ALL
SELECT TIMESTAMPDIFF(SECOND, '1970-01-01 00:00:00', attempted_at) DIV %(bucket)s * %(bucket)s AS start,
       queue, 'retryable' AS state, COUNT(*) AS n
FROM oban_jobs
WHERE state = 'retryable' AND attempted_at >= %(since)s
GROUP BY start, queue
