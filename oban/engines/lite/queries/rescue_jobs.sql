-- Jobs whose claiming producer (attempted_by[-1]) has a stale row, or has no row at all and
-- were attempted before the fallback cutoff (nodes that never heartbeat here).
UPDATE oban_jobs
SET state = CASE WHEN attempt >= max_attempts THEN 'discarded' ELSE 'available' END,
    discarded_at = CASE WHEN attempt >= max_attempts THEN :now ELSE discarded_at END,
    errors = json_insert(coalesce(errors, '[]'), '$[#]',
                         json_object('at', :now, 'attempt', attempt, 'error', :error))
WHERE id IN (
    SELECT j.id
    FROM oban_jobs AS j
    LEFT JOIN oban_producers AS p ON p.uuid = json_extract(j.attempted_by, '$[#-1]')
    WHERE j.state = 'executing'
      AND CASE WHEN p.uuid IS NULL THEN j.attempted_at < :fallback_before ELSE p.expires_at <= :now END
)
RETURNING state
