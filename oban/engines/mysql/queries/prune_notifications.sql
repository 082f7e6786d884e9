DELETE FROM oban_notifications WHERE inserted_at < UTC_TIMESTAMP(6) - INTERVAL %(age)s SECOND
ORDER BY inserted_at
LIMIT %(limit)s
