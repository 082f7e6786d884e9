-- Write a batch of outcomes at once. An ack applies only while its job is still executing the
-- same attempt. `errors || error` appends to a jsonb[] (Oban) and to a jsonb array (oban-py).
UPDATE oban_jobs AS j
SET state = a.state::oban_job_state,
    attempt = CASE WHEN a.state = 'scheduled' THEN j.attempt - 1 ELSE j.attempt END,
    scheduled_at = coalesce(a.scheduled_at, j.scheduled_at),
    completed_at = CASE WHEN a.state = 'completed' THEN a.at ELSE j.completed_at END,
    discarded_at = CASE WHEN a.state = 'discarded' THEN a.at ELSE j.discarded_at END,
    cancelled_at = CASE WHEN a.state = 'cancelled' THEN a.at ELSE j.cancelled_at END,
    errors = CASE WHEN a.error IS NULL THEN j.errors ELSE j.errors || a.error::jsonb END,
    meta = CASE WHEN a.meta IS NULL THEN j.meta ELSE coalesce(j.meta, '{}'::jsonb) || a.meta::jsonb END
FROM unnest($1::bigint[], $2::int[], $3::text[], $4::timestamp[], $5::timestamp[], $6::text[], $7::text[])
     AS a(id, attempt, state, at, scheduled_at, error, meta)
WHERE j.id = a.id AND j.state = 'executing' AND j.attempt = a.attempt
RETURNING j.id
