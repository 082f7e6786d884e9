-- New rows, plus rows in gaps of ids skipped earlier (none on SQLite, whose writes are in id
-- order, but the poller asks the same question of every table).
SELECT id, channel, payload, sender FROM oban_notifications
WHERE id > :cursor OR id IN (SELECT value FROM json_each(:gaps))
ORDER BY id
LIMIT :limit
