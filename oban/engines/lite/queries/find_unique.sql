SELECT id, state, queue, worker, args, meta, tags, errors, attempted_by, attempt,
       max_attempts, priority, inserted_at, scheduled_at, attempted_at, completed_at,
       cancelled_at, discarded_at
FROM oban_jobs
WHERE json_extract(meta, '$.uniq_key') = :key
  AND state IN (SELECT value FROM json_each(:states))
  AND (:since IS NULL OR (CASE :timestamp WHEN 'scheduled_at' THEN scheduled_at ELSE inserted_at END) >= :since)
ORDER BY id DESC
LIMIT 1
