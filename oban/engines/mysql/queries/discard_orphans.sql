-- Orphans out of attempts: jobs whose claiming producer (attempted_by's last element) has a
-- stale row, or has no row and was attempted before the fallback cutoff.
UPDATE oban_jobs AS j
LEFT JOIN oban_producers AS p
       ON p.uuid = CASE WHEN JSON_LENGTH(j.attempted_by) > 0
                        THEN JSON_UNQUOTE(JSON_EXTRACT(j.attempted_by, CONCAT('$[', JSON_LENGTH(j.attempted_by) - 1, ']')))
                   END
SET j.state = 'discarded',
    j.discarded_at = %(now)s,
    j.errors = JSON_ARRAY_APPEND(COALESCE(j.errors, '[]'), '$',
                                 JSON_OBJECT('at', %(at)s, 'attempt', j.attempt, 'error', %(error)s))
WHERE j.state = 'executing' AND j.attempt >= j.max_attempts
  AND IF(p.uuid IS NULL, j.attempted_at < %(fallback_before)s, p.expires_at <= %(now)s)
