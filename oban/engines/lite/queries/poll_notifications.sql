SELECT id, channel, payload, sender FROM oban_notifications
WHERE id > :cursor
ORDER BY id
LIMIT 1000
