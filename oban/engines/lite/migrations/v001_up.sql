-- Oban-compatible SQLite layout: JSON as text, timestamps as fixed-width ISO-8601 UTC text.
CREATE TABLE IF NOT EXISTS oban_jobs (
    id INTEGER PRIMARY KEY,
    state TEXT NOT NULL DEFAULT 'available'
        CHECK (state IN ('available', 'suspended', 'scheduled', 'executing', 'retryable',
                         'completed', 'discarded', 'cancelled')),
    queue TEXT NOT NULL DEFAULT 'default',
    worker TEXT NOT NULL,
    args JSON NOT NULL DEFAULT '{}',
    meta JSON NOT NULL DEFAULT '{}',
    tags JSON NOT NULL DEFAULT '[]',
    errors JSON NOT NULL DEFAULT '[]',
    attempted_by JSON NOT NULL DEFAULT '[]',
    attempt INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 20,
    priority INTEGER NOT NULL DEFAULT 0,
    inserted_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')),
    scheduled_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f000Z', 'now')),
    attempted_at TEXT,
    completed_at TEXT,
    cancelled_at TEXT,
    discarded_at TEXT
);

CREATE INDEX IF NOT EXISTS oban_jobs_state_queue_priority_scheduled_at_id_index
    ON oban_jobs (state, queue, priority, scheduled_at, id);

CREATE TABLE IF NOT EXISTS oban_peers (
    name TEXT NOT NULL PRIMARY KEY,
    node TEXT NOT NULL,
    started_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS oban_schema (
    version INTEGER NOT NULL
);
