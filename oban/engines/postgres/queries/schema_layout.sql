-- What sits in schema $1: the version comment on oban_jobs, the type of its errors column
-- (jsonb[] in Oban's layout, jsonb in the oban-py layout) and of its tags column (text[], or
-- jsonb in some oban-py layouts). No row: nothing installed.
SELECT obj_description(c.oid, 'pg_class') AS version,
       (SELECT format_type(a.atttypid, a.atttypmod)
        FROM pg_attribute AS a
        WHERE a.attrelid = c.oid AND a.attname = 'errors' AND NOT a.attisdropped) AS errors_type,
       (SELECT format_type(a.atttypid, a.atttypmod)
        FROM pg_attribute AS a
        WHERE a.attrelid = c.oid AND a.attname = 'tags' AND NOT a.attisdropped) AS tags_type
FROM pg_class AS c
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = $1::text AND c.relname = 'oban_jobs' AND c.relkind IN ('r', 'p')
