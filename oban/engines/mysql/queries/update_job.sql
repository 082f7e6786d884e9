UPDATE oban_jobs
SET args = %(args)s, max_attempts = %(max_attempts)s, meta = %(meta)s, priority = %(priority)s,
    queue = %(queue)s, scheduled_at = %(scheduled_at)s, tags = %(tags)s, worker = %(worker)s,
    state = %(state)s
WHERE id = %(id)s
