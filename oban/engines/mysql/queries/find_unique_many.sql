-- find_unique.sql for a batch of unique jobs with distinct keys, in one round trip: every stored
-- job that any of them duplicates, newest first, each locked as find_unique locks its row (a
-- locking read, so it sees the newest committed rows whatever the caller's snapshot is). The
-- engine repeats the parenthesised condition, joined by OR, once for each set of options in the
-- batch (keys with their 64-character index prefixes, states, how far back the period reaches or
-- NULL, the timestamp it counts from), and takes for each job the first row carrying its key.
-- The index is forced: where most rows have no key, the statistics of a long IN list make a
-- table scan look cheaper than it is.
SELECT id, state, queue, worker, args, meta, tags, errors, attempted_by, attempt,
       max_attempts, priority, inserted_at, scheduled_at, attempted_at, completed_at,
       cancelled_at, discarded_at
FROM oban_jobs FORCE INDEX (oban_jobs_uniq_key_index)
WHERE (uniq_key IN %s
       AND JSON_UNQUOTE(JSON_EXTRACT(meta, '$.uniq_key')) IN %s
       AND state IN %s
       AND (%s IS NULL OR (CASE %s WHEN 'scheduled_at' THEN scheduled_at ELSE inserted_at END) >= %s))
ORDER BY id DESC
FOR UPDATE
