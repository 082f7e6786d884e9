-- A batch of acks in one statement. :acks is a JSON array with one array per ack:
-- [id, attempt, state, at, scheduled_at or "", error (JSON text) or ""].
-- The unary + keeps the planner from scanning executing jobs by the state index: each ack
-- looks its job up by id instead.
UPDATE oban_jobs
SET state = a.state,
    attempt = CASE WHEN a.state = 'scheduled' THEN oban_jobs.attempt - 1 ELSE oban_jobs.attempt END,
    scheduled_at = coalesce(a.scheduled_at, oban_jobs.scheduled_at),
    completed_at = CASE WHEN a.state = 'completed' THEN a.at ELSE oban_jobs.completed_at END,
    discarded_at = CASE WHEN a.state = 'discarded' THEN a.at ELSE oban_jobs.discarded_at END,
    cancelled_at = CASE WHEN a.state = 'cancelled' THEN a.at ELSE oban_jobs.cancelled_at END,
    errors = CASE WHEN a.error IS NULL THEN oban_jobs.errors
                  ELSE json_insert(coalesce(oban_jobs.errors, '[]'), '$[#]', json(a.error)) END
FROM (
    SELECT json_extract(value, '$[0]') AS id,
           json_extract(value, '$[1]') AS attempt,
           json_extract(value, '$[2]') AS state,
           json_extract(value, '$[3]') AS at,
           nullif(json_extract(value, '$[4]'), '') AS scheduled_at,
           nullif(json_extract(value, '$[5]'), '') AS error
    FROM json_each(:acks)
) AS a
WHERE oban_jobs.id = a.id AND +oban_jobs.attempt = a.attempt AND +oban_jobs.state = 'executing'
RETURNING oban_jobs.id
