-- ack_jobs for the commonest batch: plain completions (no error, no new scheduled_at, no meta).
-- :acks is a JSON array with one array per ack: [id, attempt, completed_at]. Fewer values to
-- pick out of each entry and fewer columns to work out than ack_jobs, for the same rows.
UPDATE oban_jobs
SET state = 'completed',
    completed_at = a.at
FROM (
    SELECT json_extract(value, '$[0]') AS id,
           json_extract(value, '$[1]') AS attempt,
           json_extract(value, '$[2]') AS at
    FROM json_each(:acks)
) AS a
WHERE oban_jobs.id = a.id AND +oban_jobs.attempt = a.attempt AND +oban_jobs.state = 'executing'
RETURNING oban_jobs.id
