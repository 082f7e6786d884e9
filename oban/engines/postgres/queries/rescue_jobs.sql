-- Jobs whose claiming producer (attempted_by's last element) has a stale row (updated_at older
-- than its meta ttl, $5 s for rows that state none), or has no row and was attempted before $2:
-- run them again, or discard them when spent, recording the rescue in errors ($3 the time as
-- ISO-8601 text, $4 the message).
WITH orphans AS (
    SELECT j.id
    FROM oban_jobs AS j
    LEFT JOIN oban_producers AS p ON p.uuid::text = j.attempted_by[array_upper(j.attempted_by, 1)]
    WHERE j.state = 'executing'
      AND CASE WHEN p.uuid IS NULL THEN j.attempted_at < $2::timestamp
               ELSE p.updated_at <= $1::timestamp - make_interval(secs => coalesce((p.meta->>'ttl')::float8, $5::float8))
          END
    FOR UPDATE OF j SKIP LOCKED
), rescued AS (
    UPDATE oban_jobs AS j
    SET state = (CASE WHEN j.attempt >= j.max_attempts THEN 'discarded' ELSE 'available' END)::oban_job_state,
        discarded_at = CASE WHEN j.attempt >= j.max_attempts THEN $1::timestamp ELSE j.discarded_at END,
        errors = j.errors || jsonb_build_object('at', $3::text, 'attempt', j.attempt, 'error', $4::text)
    FROM orphans
    WHERE j.id = orphans.id
    RETURNING j.state::text AS state
)
SELECT count(*) FILTER (WHERE state = 'available') AS rescued,
       count(*) FILTER (WHERE state = 'discarded') AS discarded
FROM rescued
