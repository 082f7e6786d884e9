-- Jobs finished at or after $1, per $2 seconds, queue and state, each state dated by its own
-- timestamp. Every branch filters on state first, so it reads an index that leads with state
-- ((state, cancelled_at) and (state, discarded_at) since v13; (state, queue, ...) otherwise).
-- Timestamps hold UTC, and the epoch of a timestamp without time zone is read as UTC.
SELECT (extract(epoch FROM date_trunc('second', completed_at))::bigint / $2::bigint) * $2::bigint AS start,
       queue, 'completed' AS state, count(*) AS n
FROM oban_jobs
WHERE state = 'completed' AND completed_at >= $1::timestamp
GROUP BY start, queue
UNION ALL
SELECT (extract(epoch FROM date_trunc('second', discarded_at))::bigint / $2::bigint) * $2::bigint AS start,
       queue, 'discarded' AS state, count(*) AS n
FROM oban_jobs
WHERE state = 'discarded' AND discarded_at >= $1::timestamp
GROUP BY start, queue
UNION ALL
SELECT (extract(epoch FROM date_trunc('second', cancelled_at))::bigint / $2::bigint) * $2::bigint AS start,
       queue, 'cancelled' AS state, count(*) AS n
FROM oban_jobs
WHERE state = 'cancelled' AND cancelled_at >= $1::timestamp
GROUP BY start, queue
UNION ALL
SELECT (extract(epoch FROM date_trunc('second', attempted_at))::bigint / $2::bigint) * $2::bigint AS start,
       queue, 'retryable' AS state, count(*) AS n
FROM oban_jobs
WHERE state = 'retryable' AND attempted_at >= $1::timestamp
GROUP BY start, queue
