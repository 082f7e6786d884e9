DELETE FROM oban_jobs
WHERE id = ANY($1::bigint[]) AND state <> 'executing'
