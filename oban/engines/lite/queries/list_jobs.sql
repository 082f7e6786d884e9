-- Jobs matching every filter given (NULL: no filter), newest id first, from :before_id down
-- (always given, so the primary key is read in order from it). :pattern is a LIKE
-- pattern escaped with '!' (SQLite's LIKE ignores ASCII case); :search_id a job id or NULL.
SELECT id, state, queue, worker, args, meta, tags, errors, attempted_by, attempt,
       max_attempts, priority, inserted_at, scheduled_at, attempted_at, completed_at,
       cancelled_at, discarded_at
FROM oban_jobs
WHERE (:queue IS NULL OR queue = :queue)
  AND (:worker IS NULL OR worker = :worker)
  AND (:states IS NULL OR state IN (SELECT value FROM json_each(:states)))
  AND id < :before_id
  AND (
      :pattern IS NULL
      OR id = :search_id
      OR worker LIKE :pattern ESCAPE '!'
      OR args LIKE :pattern ESCAPE '!'
      OR meta LIKE :pattern ESCAPE '!'
      OR EXISTS (SELECT 1 FROM json_each(oban_jobs.tags) WHERE value LIKE :pattern ESCAPE '!')
  )
ORDER BY id DESC
LIMIT :limit
