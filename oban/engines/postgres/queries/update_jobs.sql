-- Store the new version of each job; only the updatable fields (and the state they imply).
UPDATE oban_jobs AS j
SET args = u.args::jsonb,
    max_attempts = u.max_attempts,
    meta = u.meta::jsonb,
    priority = u.priority,
    queue = u.queue,
    scheduled_at = u.scheduled_at,
    tags = (jsonb_populate_record(NULL::oban_jobs, jsonb_build_object('tags', u.tags::jsonb))).tags,
    worker = u.worker,
    state = u.state::oban_job_state
FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[], $5::int[], $6::text[], $7::timestamp[],
            $8::text[], $9::text[], $10::text[])
     AS u(id, args, max_attempts, meta, priority, queue, scheduled_at, tags, worker, state)
WHERE j.id = u.id
