-- Heartbeats: every node records its producers (one per queue) every few seconds; the lifeline
-- rescues jobs of producers whose row went stale (expires_at passed). The columns of oban-py's
-- oban_producers, plus expires_at (updated_at + the producer's ttl).
CREATE TABLE IF NOT EXISTS oban_producers (
    uuid VARCHAR(36) NOT NULL,
    name VARCHAR(255) NOT NULL DEFAULT 'oban',
    node VARCHAR(255) NOT NULL,
    queue VARCHAR(255) NOT NULL,
    meta JSON NOT NULL,
    started_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    PRIMARY KEY (uuid),
    INDEX oban_producers_expires_at_index (expires_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
