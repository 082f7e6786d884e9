-- A locking read: it sees the newest committed rows whatever the caller's snapshot is.
SELECT id, state, queue, worker, args, meta, tags, errors, attempted_by, attempt,
       max_attempts, priority, inserted_at, scheduled_at, attempted_at, completed_at,
       cancelled_at, discarded_at
FROM oban_jobs
WHERE uniq_key = LEFT(%(key)s, 64)
  AND JSON_UNQUOTE(JSON_EXTRACT(meta, '$.uniq_key')) = %(key)s
  AND state IN %(states)s
  AND (%(since)s IS NULL
       OR (CASE %(timestamp)s WHEN 'scheduled_at' THEN scheduled_at ELSE inserted_at END) >= %(since)s)
ORDER BY id DESC
LIMIT 1
FOR UPDATE
