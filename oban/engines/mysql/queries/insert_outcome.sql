-- After the connection died during an insert's COMMIT: are the new rows there?
SELECT id, inserted_at FROM oban_jobs FORCE INDEX (PRIMARY)
WHERE id IN %(ids)s
