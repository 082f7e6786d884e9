-- Oban v1: the state enum, the jobs table, and a trigger announcing inserts and state changes.
-- Every script runs with search_path set to the prefix schema, inside one transaction.
CREATE TYPE oban_job_state AS ENUM (
    'available', 'scheduled', 'executing', 'retryable', 'completed', 'discarded'
);

CREATE TABLE oban_jobs (
    id bigserial PRIMARY KEY,
    state oban_job_state NOT NULL DEFAULT 'available',
    queue text NOT NULL DEFAULT 'default',
    worker text NOT NULL,
    args jsonb NOT NULL,
    errors jsonb[] NOT NULL DEFAULT ARRAY[]::jsonb[],
    attempt integer NOT NULL DEFAULT 0,
    max_attempts integer NOT NULL DEFAULT 20,
    inserted_at timestamp NOT NULL DEFAULT timezone('UTC', now()),
    scheduled_at timestamp NOT NULL DEFAULT timezone('UTC', now()),
    attempted_at timestamp,
    completed_at timestamp
);

CREATE INDEX oban_jobs_queue_index ON oban_jobs (queue);
CREATE INDEX oban_jobs_state_index ON oban_jobs (state);
CREATE INDEX oban_jobs_scheduled_at_index ON oban_jobs (scheduled_at);

CREATE FUNCTION oban_jobs_notify() RETURNS trigger AS $$
DECLARE
    channel text;
    notice json;
BEGIN
    IF TG_OP = 'INSERT' THEN
        channel := TG_TABLE_SCHEMA || '.oban_insert';
        notice := json_build_object('queue', NEW.queue, 'state', NEW.state);
        IF NEW.scheduled_at IS NOT NULL AND NEW.scheduled_at > now() AT TIME ZONE 'utc' THEN
            RETURN NULL;
        END IF;
    ELSE
        channel := TG_TABLE_SCHEMA || '.oban_update';
        notice := json_build_object('queue', NEW.queue, 'new_state', NEW.state, 'old_state', OLD.state);
    END IF;
    PERFORM pg_notify(channel, notice::text);
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER oban_notify
AFTER INSERT OR UPDATE OF state ON oban_jobs
FOR EACH ROW EXECUTE FUNCTION oban_jobs_notify();
