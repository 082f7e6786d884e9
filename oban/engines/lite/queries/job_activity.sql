-- Jobs finished at or after :since, per :bucket seconds, queue and state, each state dated by
-- its own timestamp; every branch reads one (state, <timestamp>) index. Timestamps are
-- fixed-width ISO text, so the first 19 characters are the whole seconds (strftime alone
-- would round to milliseconds) and text order is time order.
SELECT CAST(strftime('%s', substr(completed_at, 1, 19)) AS INTEGER) / :bucket * :bucket AS start,
       queue, 'completed' AS state, count(*) AS n
FROM oban_jobs
WHERE state = 'completed' AND completed_at >= :since
GROUP BY start, queue
UNION ALL
SELECT CAST(strftime('%s', substr(discarded_at, 1, 19)) AS INTEGER) / :bucket * :bucket AS start,
       queue, 'discarded' AS state, count(*) AS n
FROM oban_jobs
WHERE state = 'discarded' AND discarded_at >= :since
GROUP BY start, queue
UNION ALL
SELECT CAST(strftime('%s', substr(cancelled_at, 1, 19)) AS INTEGER) / :bucket * :bucket AS start,
       queue, 'cancelled' AS state, count(*) AS n
FROM oban_jobs
WHERE state = 'cancelled' AND cancelled_at >= :since
GROUP BY start, queue
UNION ALL
SELECT CAST(strftime('%s', substr(attempted_at, 1, 19)) AS INTEGER) / :bucket * :bucket AS start,
       queue, 'retryable' AS state, count(*) AS n
FROM oban_jobs
WHERE state = 'retryable' AND attempted_at >= :since
GROUP BY start, queue
