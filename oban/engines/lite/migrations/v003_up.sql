-- Notifications between processes sharing the file: each engine polls rows newer than its cursor.
CREATE TABLE IF NOT EXISTS oban_notifications (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    payload TEXT NOT NULL,
    sender TEXT NOT NULL,
    inserted_at TEXT NOT NULL
);
