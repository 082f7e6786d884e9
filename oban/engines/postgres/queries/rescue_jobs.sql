-- Jobs executing since before $1 lost their node: run them again, or discard them when spent,
-- recording the rescue in errors ($3 is the time as ISO-8601 text, $4 the message).
WITH rescued AS (
    UPDATE oban_jobs
    SET state = (CASE WHEN attempt >= max_attempts THEN 'discarded' ELSE 'available' END)::oban_job_state,
        discarded_at = CASE WHEN attempt >= max_attempts THEN $2::timestamp ELSE discarded_at END,
        errors = errors || jsonb_build_object('at', $3::text, 'attempt', attempt, 'error', $4::text)
    WHERE state = 'executing' AND attempted_at < $1::timestamp
    RETURNING state::text AS state
)
SELECT count(*) FILTER (WHERE state = 'available') AS rescued,
       count(*) FILTER (WHERE state = 'discarded') AS discarded
FROM rescued
