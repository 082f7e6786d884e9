-- After a claim's connection died: the jobs that claim took, if it committed. A claim stamps its
-- rows with its claimer ($2, [node, producer uuid]) and its time ($3), which no other claim shares.
SELECT id, state::text AS state, queue, worker, args, meta, to_jsonb(tags) AS tags,
       to_jsonb(errors) AS errors, attempted_by, attempt, max_attempts, priority, inserted_at,
       scheduled_at, attempted_at, completed_at, cancelled_at, discarded_at
FROM oban_jobs
WHERE state = 'executing' AND queue = $1::text AND attempted_by = $2::text[] AND attempted_at = $3::timestamp
ORDER BY priority, scheduled_at, id
