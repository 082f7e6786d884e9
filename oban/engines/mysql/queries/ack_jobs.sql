-- Every outcome of a batch in one statement: the acks arrive as one JSON array of objects.
-- The ids were locked and checked (executing, at the acked attempt) in the same transaction;
-- meta, when present, is the row's whole new meta.
UPDATE oban_jobs AS j
JOIN JSON_TABLE(%(acks)s, '$[*]' COLUMNS (
    id BIGINT UNSIGNED PATH '$.id',
    attempt INT PATH '$.attempt',
    state VARCHAR(16) PATH '$.state',
    at DATETIME(6) PATH '$.at',
    scheduled_at DATETIME(6) PATH '$.scheduled_at',
    error LONGTEXT PATH '$.error',
    meta LONGTEXT PATH '$.meta'
)) AS a ON a.id = j.id AND a.attempt = j.attempt
SET j.state = a.state,
    j.attempt = IF(a.state = 'scheduled', j.attempt - 1, j.attempt),
    j.scheduled_at = COALESCE(a.scheduled_at, j.scheduled_at),
    j.completed_at = IF(a.state = 'completed', a.at, j.completed_at),
    j.discarded_at = IF(a.state = 'discarded', a.at, j.discarded_at),
    j.cancelled_at = IF(a.state = 'cancelled', a.at, j.cancelled_at),
    j.errors = IF(a.error IS NULL, j.errors,
                  JSON_ARRAY_APPEND(COALESCE(j.errors, '[]'), '$', JSON_EXTRACT(a.error, '$'))),
    j.meta = IF(a.meta IS NULL, j.meta, a.meta)
WHERE j.id IN %(ids)s
