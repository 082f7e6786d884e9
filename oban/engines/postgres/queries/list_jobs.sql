SELECT id, state::text AS state, queue, worker, args, meta, to_jsonb(tags) AS tags,
       to_jsonb(errors) AS errors, attempted_by, attempt, max_attempts, priority, inserted_at,
       scheduled_at, attempted_at, completed_at, cancelled_at, discarded_at
FROM oban_jobs
WHERE ($1::text IS NULL OR queue = $1::text)
  AND ($2::text IS NULL OR worker = $2::text)
  AND ($3::text[] IS NULL OR state::text = ANY($3::text[]))
ORDER BY id DESC
LIMIT $4
