SELECT id, state, queue, worker, args, meta, tags, errors, attempted_by, attempt,
       max_attempts, priority, inserted_at, scheduled_at, attempted_at, completed_at,
       cancelled_at, discarded_at
FROM oban_jobs
WHERE (%(queue)s IS NULL OR queue = %(queue)s)
  AND (%(worker)s IS NULL OR worker = %(worker)s)
  AND (%(any_state)s OR state IN %(states)s)
ORDER BY id DESC
LIMIT %(limit)s
