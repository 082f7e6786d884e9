-- find_unique.sql for a batch of unique jobs with distinct keys, in one round trip: for each
-- input row ($1 the key, $2 its states as an array literal, $3 how far back its period reaches or
-- NULL, $4 the timestamp the period counts from) the newest stored job it duplicates. One row
-- per input in input order; id is NULL where nothing is stored. The lateral has no ORDER BY/LIMIT
-- of its own: with one, the planner walks the primary key backwards for every input row instead
-- of asking the meta index.
SELECT DISTINCT ON (u.ord)
       j.id, j.state, j.queue, j.worker, j.args, j.meta, j.tags, j.errors, j.attempted_by, j.attempt,
       j.max_attempts, j.priority, j.inserted_at, j.scheduled_at, j.attempted_at, j.completed_at,
       j.cancelled_at, j.discarded_at
FROM unnest($1::text[], $2::text[], $3::timestamp[], $4::text[]) WITH ORDINALITY AS u(key, states, since, ts, ord)
LEFT JOIN LATERAL (
    SELECT id, state::text AS state, queue, worker, args, meta, to_jsonb(tags) AS tags,
           to_jsonb(errors) AS errors, attempted_by, attempt, max_attempts, priority, inserted_at,
           scheduled_at, attempted_at, completed_at, cancelled_at, discarded_at
    FROM oban_jobs
    WHERE meta @> jsonb_build_object('uniq_key', u.key)
      AND state::text = ANY(u.states::text[])
      AND (u.since IS NULL
           OR (CASE WHEN u.ts = 'scheduled_at' THEN scheduled_at ELSE inserted_at END) >= u.since)
) AS j ON true
ORDER BY u.ord, j.id DESC
