UPDATE oban_jobs
SET args = :args, max_attempts = :max_attempts, meta = :meta, priority = :priority,
    queue = :queue, scheduled_at = :scheduled_at, tags = :tags, worker = :worker, state = :state
WHERE id = :id
