-- Oban-compatible MySQL/MariaDB layout: ENUM state, JSON documents, DATETIME(6) holding UTC.
-- utf8mb4_bin makes queue and worker comparisons exact (MySQL's default collation ignores case).
CREATE TABLE IF NOT EXISTS oban_jobs (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    state ENUM('available', 'suspended', 'scheduled', 'executing', 'retryable', 'completed',
               'discarded', 'cancelled') NOT NULL DEFAULT 'available',
    queue VARCHAR(255) NOT NULL DEFAULT 'default',
    worker VARCHAR(255) NOT NULL,
    args JSON NOT NULL DEFAULT ('{}'),
    meta JSON NOT NULL DEFAULT ('{}'),
    tags JSON NOT NULL DEFAULT ('[]'),
    errors JSON NOT NULL DEFAULT ('[]'),
    attempted_by JSON NOT NULL DEFAULT ('[]'),
    attempt INT NOT NULL DEFAULT 0,
    max_attempts INT NOT NULL DEFAULT 20,
    priority INT NOT NULL DEFAULT 0,
    inserted_at DATETIME(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
    scheduled_at DATETIME(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
    attempted_at DATETIME(6) NULL,
    completed_at DATETIME(6) NULL,
    cancelled_at DATETIME(6) NULL,
    discarded_at DATETIME(6) NULL,
    PRIMARY KEY (id),
    INDEX oban_jobs_state_queue_priority_scheduled_at_id_index (state, queue, priority, scheduled_at, id),
    CONSTRAINT oban_jobs_attempt_range CHECK (attempt BETWEEN 0 AND max_attempts),
    CONSTRAINT oban_jobs_non_negative_priority CHECK (priority >= 0),
    CONSTRAINT oban_jobs_positive_max_attempts CHECK (max_attempts > 0),
    CONSTRAINT oban_jobs_queue_length CHECK (CHAR_LENGTH(queue) > 0 AND CHAR_LENGTH(queue) < 128),
    CONSTRAINT oban_jobs_worker_length CHECK (CHAR_LENGTH(worker) > 0)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE IF NOT EXISTS oban_peers (
    name VARCHAR(255) NOT NULL,
    node VARCHAR(255) NOT NULL,
    started_at DATETIME(6) NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    PRIMARY KEY (name)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- One row: the installed version of this layout (Oban's own MySQL schema is unversioned).
CREATE TABLE IF NOT EXISTS oban_schema (
    version INT NOT NULL,
    PRIMARY KEY (version)
) ENGINE = InnoDB;
