-- Oban v8: discarded_at, priority and tags; the fetch index leads with state and priority; the
-- trigger announces only inserts of available jobs.
ALTER TABLE oban_jobs ADD COLUMN IF NOT EXISTS discarded_at timestamp;
ALTER TABLE oban_jobs ADD COLUMN IF NOT EXISTS priority integer;
ALTER TABLE oban_jobs ADD COLUMN IF NOT EXISTS tags text[];
ALTER TABLE oban_jobs ALTER COLUMN priority SET DEFAULT 0;
ALTER TABLE oban_jobs ALTER COLUMN tags SET DEFAULT ARRAY[]::text[];

DROP INDEX IF EXISTS oban_jobs_queue_state_scheduled_at_id_index;
CREATE INDEX IF NOT EXISTS oban_jobs_state_queue_priority_scheduled_at_id_index
    ON oban_jobs (state, queue, priority, scheduled_at, id);

CREATE OR REPLACE FUNCTION oban_jobs_notify() RETURNS trigger AS $$
BEGIN
    IF NEW.state = 'available' THEN
        PERFORM pg_notify(TG_TABLE_SCHEMA || '.oban_insert', json_build_object('queue', NEW.queue)::text);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS oban_notify ON oban_jobs;
CREATE TRIGGER oban_notify
AFTER INSERT ON oban_jobs
FOR EACH ROW EXECUTE FUNCTION oban_jobs_notify();
