-- Jobs matching every filter given (NULL: no filter), newest id first, from the before_id bound
-- down (always given, so the primary key is read in order from it). The pattern is a LIKE
-- pattern escaped with '!'; queue, worker and tags compare exactly (utf8mb4_bin), so a search
-- lowers both sides. JSON_SEARCH matches the pattern against each tag on its own.
SELECT id, state, queue, worker, args, meta, tags, errors, attempted_by, attempt,
       max_attempts, priority, inserted_at, scheduled_at, attempted_at, completed_at,
       cancelled_at, discarded_at
FROM oban_jobs
WHERE (%(queue)s IS NULL OR queue = %(queue)s)
  AND (%(worker)s IS NULL OR worker = %(worker)s)
  AND (%(any_state)s OR state IN %(states)s)
  AND id < %(before_id)s
  AND (
      %(pattern)s IS NULL
      OR id = %(search_id)s
      OR LOWER(worker) LIKE LOWER(%(pattern)s) ESCAPE '!'
      OR LOWER(CAST(args AS CHAR)) LIKE LOWER(%(pattern)s) ESCAPE '!'
      OR LOWER(CAST(meta AS CHAR)) LIKE LOWER(%(pattern)s) ESCAPE '!'
      OR JSON_SEARCH(LOWER(tags), 'one', LOWER(%(pattern)s), '!') IS NOT NULL
  )
ORDER BY id DESC
LIMIT %(limit)s
