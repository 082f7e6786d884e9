-- Cancel the incomplete jobs among $1 and report which of them were executing.
WITH target AS (
    SELECT id, state::text AS old_state
    FROM oban_jobs
    WHERE id = ANY($1::bigint[]) AND state NOT IN ('completed', 'discarded', 'cancelled')
    ORDER BY id
    FOR UPDATE
), cancelled AS (
    UPDATE oban_jobs AS j
    SET state = 'cancelled', cancelled_at = $2::timestamp
    FROM target AS t
    WHERE j.id = t.id
    RETURNING j.id, t.old_state
)
SELECT id, old_state FROM cancelled ORDER BY id
