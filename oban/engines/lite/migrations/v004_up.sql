-- Notification ids must never repeat: other processes read only ids above their cursor, and a
-- plain INTEGER PRIMARY KEY hands out id 1 again once pruning has emptied the table.
-- AUTOINCREMENT keeps the highest id ever used (in sqlite_sequence), so ids only grow.
CREATE TABLE oban_notifications_next (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    payload TEXT NOT NULL,
    sender TEXT NOT NULL,
    inserted_at TEXT NOT NULL
);
INSERT INTO oban_notifications_next (id, channel, payload, sender, inserted_at)
    SELECT id, channel, payload, sender, inserted_at FROM oban_notifications;
DROP TABLE oban_notifications;
ALTER TABLE oban_notifications_next RENAME TO oban_notifications;
