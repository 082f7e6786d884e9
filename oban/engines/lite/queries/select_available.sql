-- The jobs a claim takes, in claim order, as one JSON array with one array per job: one row to
-- step through and one text to decode, however many jobs. mark_executing then claims them by
-- id in the same write transaction.
SELECT json_group_array(json_array(
           id, queue, worker, json(args), json(meta), json(tags), json(errors), attempt,
           max_attempts, priority, inserted_at, scheduled_at, completed_at, cancelled_at,
           discarded_at))
FROM (
    SELECT *
    FROM oban_jobs
    WHERE state = 'available' AND queue = :queue AND attempt < max_attempts
    ORDER BY priority, scheduled_at, id
    LIMIT :demand
)
