INSERT INTO oban_jobs
    (state, queue, worker, args, meta, tags, errors, attempted_by, attempt, max_attempts,
     priority, inserted_at, scheduled_at)
VALUES (%s, %s, %s, %s, %s, %s, '[]', '[]', 0, %s, %s, %s, %s)
