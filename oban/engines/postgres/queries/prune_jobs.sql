-- Delete finished jobs older than $1, at most $2 of them. The state is checked again on delete
-- in case a job was retried meanwhile.
WITH doomed AS (
    SELECT id FROM oban_jobs WHERE state = 'completed' AND completed_at < $1::timestamp
    UNION ALL
    SELECT id FROM oban_jobs WHERE state = 'cancelled' AND cancelled_at < $1::timestamp
    UNION ALL
    SELECT id FROM oban_jobs WHERE state = 'discarded' AND discarded_at < $1::timestamp
    LIMIT $2
)
DELETE FROM oban_jobs AS j
USING doomed
WHERE j.id = doomed.id AND j.state IN ('completed', 'cancelled', 'discarded')
