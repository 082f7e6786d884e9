SELECT id, state::text AS state, queue, worker, args, meta, to_jsonb(tags) AS tags,
       to_jsonb(errors) AS errors, attempted_by, attempt, max_attempts, priority, inserted_at,
       scheduled_at, attempted_at, completed_at, cancelled_at, discarded_at
FROM oban_jobs
WHERE id = ANY($1::bigint[])
ORDER BY id
