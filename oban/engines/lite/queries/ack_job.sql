UPDATE oban_jobs
SET state = :state,
    attempt = CASE WHEN :state = 'scheduled' THEN attempt - 1 ELSE attempt END,
    scheduled_at = coalesce(:scheduled_at, scheduled_at),
    completed_at = CASE WHEN :state = 'completed' THEN :at ELSE completed_at END,
    discarded_at = CASE WHEN :state = 'discarded' THEN :at ELSE discarded_at END,
    cancelled_at = CASE WHEN :state = 'cancelled' THEN :at ELSE cancelled_at END,
    errors = CASE WHEN :error IS NULL THEN errors
                  ELSE json_insert(coalesce(errors, '[]'), '$[#]', json(:error)) END,
    meta = coalesce(:meta, meta)
WHERE id = :id AND attempt = :attempt AND state = 'executing'
