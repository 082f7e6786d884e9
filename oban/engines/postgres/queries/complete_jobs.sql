-- ack_jobs.sql for the common batch: every ack a plain completion (no error, no meta), sent as
-- three arrays instead of seven. Same guard: only while the job still runs the same attempt.
UPDATE oban_jobs AS j
SET state = 'completed',
    completed_at = a.at
FROM unnest($1::bigint[], $2::int[], $3::timestamp[]) AS a(id, attempt, at)
WHERE j.id = a.id AND j.state = 'executing' AND j.attempt = a.attempt
RETURNING j.id
