INSERT INTO oban_jobs
    (state, queue, worker, args, meta, tags, errors, attempted_by, attempt, max_attempts,
     priority, inserted_at, scheduled_at)
VALUES (?, ?, ?, ?, ?, ?, '[]', '[]', 0, ?, ?, ?, ?)
