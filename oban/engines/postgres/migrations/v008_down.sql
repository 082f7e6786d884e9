DROP INDEX IF EXISTS oban_jobs_state_queue_priority_scheduled_at_id_index;
CREATE INDEX IF NOT EXISTS oban_jobs_queue_state_scheduled_at_id_index
    ON oban_jobs (queue, state, scheduled_at, id);

ALTER TABLE oban_jobs DROP COLUMN IF EXISTS discarded_at;
ALTER TABLE oban_jobs DROP COLUMN IF EXISTS priority;
ALTER TABLE oban_jobs DROP COLUMN IF EXISTS tags;

CREATE OR REPLACE FUNCTION oban_jobs_notify() RETURNS trigger AS $$
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

DROP TRIGGER IF EXISTS oban_notify ON oban_jobs;
CREATE TRIGGER oban_notify
AFTER INSERT OR UPDATE OF state ON oban_jobs
FOR EACH ROW EXECUTE FUNCTION oban_jobs_notify();
