-- New rows, plus rows in earlier gaps of ids: a transaction that took an id before a later one
-- may commit after it.
SELECT id, channel, payload, sender FROM oban_notifications
WHERE id > %(cursor)s OR id IN %(gaps)s
ORDER BY id
LIMIT %(limit)s
