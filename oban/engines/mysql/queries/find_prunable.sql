SELECT id FROM oban_jobs WHERE completed_at < %(before)s AND state = 'completed'
UNION ALL
SELECT id FROM oban_jobs WHERE state = 'cancelled' AND cancelled_at < %(before)s
UNION ALL
SELECT id FROM oban_jobs WHERE state = 'discarded' AND discarded_at < %(before)s
LIMIT %(limit)s
