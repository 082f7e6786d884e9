-- Claim up to $2 jobs of queue $1: lock them without waiting for rows other nodes hold, then
-- mark them executing, all in one statement. attempted_by is [node, producer uuid], as Oban sets it.
-- Times come back as timestamptz in UTC, so the driver hands over aware datetimes as they are.
-- Rows come back in no particular order: the engine sorts them (priority, scheduled_at, id),
-- which costs less there than a sort step here.
WITH locked AS (
    SELECT id
    FROM oban_jobs
    WHERE state = 'available' AND queue = $1 AND attempt < max_attempts
    ORDER BY priority, scheduled_at, id
    LIMIT $2
    FOR UPDATE SKIP LOCKED
), claimed AS (
    UPDATE oban_jobs AS j
    SET state = 'executing',
        attempt = j.attempt + 1,
        attempted_at = $4::timestamp,
        attempted_by = $3::text[]
    FROM locked
    WHERE j.id = locked.id
    RETURNING j.id, j.state::text AS state, j.queue, j.worker, j.args, j.meta, to_jsonb(j.tags) AS tags,
              to_jsonb(j.errors) AS errors, j.attempted_by, j.attempt, j.max_attempts, j.priority,
              j.inserted_at AT TIME ZONE 'UTC' AS inserted_at, j.scheduled_at AT TIME ZONE 'UTC' AS scheduled_at,
              j.attempted_at AT TIME ZONE 'UTC' AS attempted_at, j.completed_at AT TIME ZONE 'UTC' AS completed_at,
              j.cancelled_at AT TIME ZONE 'UTC' AS cancelled_at, j.discarded_at AT TIME ZONE 'UTC' AS discarded_at
)
SELECT * FROM claimed
