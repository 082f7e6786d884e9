SELECT id, state, queue, worker, args, meta, tags, errors, attempted_by, attempt,
       max_attempts, priority, inserted_at, scheduled_at, attempted_at, completed_at,
       cancelled_at, discarded_at
FROM oban_jobs FORCE INDEX (PRIMARY)
WHERE id IN %(ids)s
ORDER BY id
FOR UPDATE
