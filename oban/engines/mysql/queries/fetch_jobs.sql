-- The first half of a claim: lock the next available jobs in index order, skipping rows that
-- other claimers hold. The caller updates the locked ids and commits.
SELECT id, state, queue, worker, args, meta, tags, errors, attempted_by, attempt,
       max_attempts, priority, inserted_at, scheduled_at, attempted_at, completed_at,
       cancelled_at, discarded_at
FROM oban_jobs
WHERE state = 'available' AND queue = %(queue)s AND attempt < max_attempts
ORDER BY priority, scheduled_at, id
LIMIT %(demand)s
FOR UPDATE SKIP LOCKED
