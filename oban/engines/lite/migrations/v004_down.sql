CREATE TABLE oban_notifications_prev (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    payload TEXT NOT NULL,
    sender TEXT NOT NULL,
    inserted_at TEXT NOT NULL
);
INSERT INTO oban_notifications_prev (id, channel, payload, sender, inserted_at)
    SELECT id, channel, payload, sender, inserted_at FROM oban_notifications;
DROP TABLE oban_notifications;
ALTER TABLE oban_notifications_prev RENAME TO oban_notifications;
