-- The rows were locked by lock_executing in the same transaction.
SELECT id, meta FROM oban_jobs FORCE INDEX (PRIMARY) WHERE id IN %(ids)s
