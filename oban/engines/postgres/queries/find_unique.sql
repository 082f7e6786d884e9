SELECT id, state::text AS state, queue, worker, args, meta, to_jsonb(tags) AS tags,
       to_jsonb(errors) AS errors, attempted_by, attempt, max_attempts, priority, inserted_at,
       scheduled_at, attempted_at, completed_at, cancelled_at, discarded_at
FROM oban_jobs
WHERE meta @> jsonb_build_object('uniq_key', $1::text)
  AND state::text = ANY($2::text[])
  AND ($3::timestamp IS NULL
       OR (CASE WHEN $4::text = 'scheduled_at' THEN scheduled_at ELSE inserted_at END) >= $3::timestamp)
ORDER BY id DESC
LIMIT 1
