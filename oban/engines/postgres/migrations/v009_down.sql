-- An enum value cannot be dropped: rebuild the type without it. Jobs in states the older type
-- lacks (cancelled, and suspended from v14) become discarded. The partial index mentions state
-- constants of the old type, so it is rebuilt around the change.
ALTER TABLE oban_jobs DROP COLUMN IF EXISTS meta;
ALTER TABLE oban_jobs DROP COLUMN IF EXISTS cancelled_at;
UPDATE oban_jobs SET state = 'discarded' WHERE state::text IN ('cancelled', 'suspended');
DROP INDEX IF EXISTS oban_jobs_attempted_at_id_index;
ALTER TYPE oban_job_state RENAME TO oban_job_state_before_v9;
CREATE TYPE oban_job_state AS ENUM (
    'available', 'scheduled', 'executing', 'retryable', 'completed', 'discarded'
);
ALTER TABLE oban_jobs ALTER COLUMN state DROP DEFAULT;
ALTER TABLE oban_jobs ALTER COLUMN state TYPE oban_job_state USING state::text::oban_job_state;
ALTER TABLE oban_jobs ALTER COLUMN state SET DEFAULT 'available';
DROP TYPE oban_job_state_before_v9;
CREATE INDEX IF NOT EXISTS oban_jobs_attempted_at_id_index
    ON oban_jobs (attempted_at DESC, id)
    WHERE state IN ('completed', 'discarded');
