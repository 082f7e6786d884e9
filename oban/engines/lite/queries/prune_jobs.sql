DELETE FROM oban_jobs
WHERE id IN (
    SELECT id FROM oban_jobs WHERE state = 'completed' AND completed_at < :before
    UNION ALL
    SELECT id FROM oban_jobs WHERE state = 'cancelled' AND cancelled_at < :before
    UNION ALL
    SELECT id FROM oban_jobs WHERE state = 'discarded' AND discarded_at < :before
    LIMIT :limit
)
