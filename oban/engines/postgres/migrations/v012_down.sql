ALTER TABLE oban_jobs DROP CONSTRAINT IF EXISTS non_negative_priority;
ALTER TABLE oban_jobs ADD CONSTRAINT priority_range CHECK (priority BETWEEN 0 AND 3) NOT VALID;

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
