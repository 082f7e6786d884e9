-- Heartbeats: every node records its producers (one per queue) every few seconds; the lifeline
-- rescues jobs of producers whose row went stale (expires_at passed). Same columns as oban-py's
-- oban_producers, plus expires_at (updated_at + the producer's ttl) so staleness is one comparison.
CREATE TABLE IF NOT EXISTS oban_producers (
    uuid TEXT NOT NULL PRIMARY KEY,
    name TEXT NOT NULL DEFAULT 'oban',
    node TEXT NOT NULL,
    queue TEXT NOT NULL,
    meta JSON NOT NULL DEFAULT '{}',
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS oban_jobs_state_attempted_at_index ON oban_jobs (state, attempted_at);
