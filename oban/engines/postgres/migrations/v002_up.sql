-- Oban v2: scheduled_at is only searched for runnable jobs; worker and queue names get bounds.
DROP INDEX IF EXISTS oban_jobs_scheduled_at_index;
CREATE INDEX oban_jobs_scheduled_at_index ON oban_jobs (scheduled_at)
    WHERE state IN ('available', 'scheduled');

ALTER TABLE oban_jobs ADD CONSTRAINT worker_length
    CHECK (char_length(worker) > 0 AND char_length(worker) < 128);
ALTER TABLE oban_jobs ADD CONSTRAINT queue_length
    CHECK (char_length(queue) > 0 AND char_length(queue) < 128);

CREATE FUNCTION oban_wrap_id(value bigint) RETURNS int AS $$
BEGIN
    RETURN (CASE WHEN value > 2147483647 THEN mod(value, 2147483647) ELSE value END)::int;
END;
$$ LANGUAGE plpgsql IMMUTABLE;
