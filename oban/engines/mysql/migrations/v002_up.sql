-- Unique jobs: an indexed copy of meta.uniq_key (a virtual column, so inserts that name their
-- columns, such as Oban for Elixir's, are unaffected), and a fixed set of lock rows. A unique
-- insert locks the row of its key's bucket, so two inserts of one key take turns.
ALTER TABLE oban_jobs
    ADD COLUMN uniq_key VARCHAR(64)
        GENERATED ALWAYS AS (LEFT(JSON_UNQUOTE(JSON_EXTRACT(meta, '$.uniq_key')), 64)) VIRTUAL;

CREATE INDEX oban_jobs_uniq_key_index ON oban_jobs (uniq_key);

-- Pruning finds finished jobs by time; only completion is frequent enough to need an index.
CREATE INDEX oban_jobs_completed_at_index ON oban_jobs (completed_at);

CREATE TABLE IF NOT EXISTS oban_unique_locks (
    bucket INT NOT NULL,
    PRIMARY KEY (bucket)
) ENGINE = InnoDB;

INSERT IGNORE INTO oban_unique_locks (bucket)
SELECT n FROM (
    WITH RECURSIVE buckets (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM buckets WHERE n < 511)
    SELECT n FROM buckets
) AS numbered;

-- MySQL has no LISTEN/NOTIFY: nodes write notifications here and poll for rows newer than
-- the last one they saw. Rows are pruned after a minute.
CREATE TABLE IF NOT EXISTS oban_notifications (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
    channel VARCHAR(64) NOT NULL,
    payload JSON NOT NULL,
    sender VARCHAR(255) NOT NULL DEFAULT '',
    inserted_at DATETIME(6) NOT NULL DEFAULT (UTC_TIMESTAMP(6)),
    PRIMARY KEY (id),
    INDEX oban_notifications_inserted_at_index (inserted_at)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
