-- Jobs matching every filter given (NULL: no filter), newest id first, from the id bound $7
-- down (always given, so the primary key is read in order from it). $5 is a LIKE pattern
-- escaped with '!', $6 the job id a search of digits names; tags are read through to_jsonb so
-- that varchar[], text[] and jsonb tags (Oban's and oban-py's layouts) all work.
SELECT id, state::text AS state, queue, worker, args, meta, to_jsonb(tags) AS tags,
       to_jsonb(errors) AS errors, attempted_by, attempt, max_attempts, priority, inserted_at,
       scheduled_at, attempted_at, completed_at, cancelled_at, discarded_at
FROM oban_jobs
WHERE ($1::text IS NULL OR queue = $1::text)
  AND ($2::text IS NULL OR worker = $2::text)
  AND ($3::text[] IS NULL OR state::text = ANY($3::text[]))
  AND id < $7::bigint
  AND (
      $5::text IS NULL
      OR id = $6::bigint
      OR worker ILIKE $5::text ESCAPE '!'
      OR args::text ILIKE $5::text ESCAPE '!'
      OR meta::text ILIKE $5::text ESCAPE '!'
      OR EXISTS (SELECT 1 FROM jsonb_array_elements_text(to_jsonb(tags)) AS t(tag) WHERE t.tag ILIKE $5::text ESCAPE '!')
  )
ORDER BY id DESC
LIMIT $4
