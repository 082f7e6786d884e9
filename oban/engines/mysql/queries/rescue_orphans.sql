-- The other orphans (see discard_orphans) run again.
UPDATE oban_jobs AS j
LEFT JOIN oban_producers AS p
       ON p.uuid = CASE WHEN JSON_LENGTH(j.attempted_by) > 0
                        THEN JSON_UNQUOTE(JSON_EXTRACT(j.attempted_by, CONCAT('$[', JSON_LENGTH(j.attempted_by) - 1, ']')))
                   END
SET j.state = 'available',
    j.errors = JSON_ARRAY_APPEND(COALESCE(j.errors, '[]'), '$',
                                 JSON_OBJECT('at', %(at)s, 'attempt', j.attempt, 'error', %(error)s))
WHERE j.state = 'executing'
  AND IF(p.uuid IS NULL, j.attempted_at < %(fallback_before)s, p.expires_at <= %(now)s)
