-- Insert many jobs in one statement from parallel arrays, and wake the queues that gained
-- available jobs. Tags go through jsonb_populate_record so they take the column's own type:
-- text[] in Oban's layout, jsonb in the oban-py layout.
WITH inserted AS (
    INSERT INTO oban_jobs AS j
        (state, queue, worker, args, meta, tags, max_attempts, priority, inserted_at, scheduled_at)
    SELECT u.state::oban_job_state, u.queue, u.worker, u.args, u.meta,
           (jsonb_populate_record(NULL::oban_jobs, jsonb_build_object('tags', u.tags))).tags,
           u.max_attempts, u.priority, $9::timestamp, u.scheduled_at
    FROM unnest($1::text[], $2::text[], $3::text[], $4::jsonb[], $5::jsonb[], $6::jsonb[], $7::int[],
                $8::int[], $10::timestamp[])
         AS u(state, queue, worker, args, meta, tags, max_attempts, priority, scheduled_at)
    RETURNING j.id, j.state, j.queue, j.inserted_at, j.scheduled_at
), notified AS (
    SELECT count(pg_notify($11::text, json_build_object('queue', q.queue)::text)) AS sent
    FROM (SELECT DISTINCT queue FROM inserted WHERE state = 'available') AS q
)
SELECT i.id, i.inserted_at, i.scheduled_at, (SELECT sent FROM notified) AS notified
FROM inserted AS i
ORDER BY i.id
