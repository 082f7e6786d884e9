-- Insert many jobs in one statement from parallel arrays, and wake the queues that gained
-- available jobs. JSON travels as text[], which costs far less to send than jsonb[]. Each job's
-- tags come as one array literal ('{"a","b"}') for Oban's text[] column; the engine derives
-- insert_jobs_json_tags from this text for oban-py's layouts, whose tags are jsonb. Ids come
-- back as one array: a sequence hands them out in the order rows are written, which is input order.
WITH inserted AS (
    INSERT INTO oban_jobs AS j
        (state, queue, worker, args, meta, tags, max_attempts, priority, inserted_at, scheduled_at)
    SELECT u.state::oban_job_state, u.queue, u.worker, u.args::jsonb, u.meta::jsonb,
           u.tags::text[],
           u.max_attempts, u.priority, $9::timestamp, u.scheduled_at
    FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::int[],
                $8::int[], $10::timestamp[])
         AS u(state, queue, worker, args, meta, tags, max_attempts, priority, scheduled_at)
    RETURNING j.id, j.state, j.queue
), notified AS (
    SELECT count(pg_notify($11::text, json_build_object('queue', q.queue)::text)) AS sent
    FROM (SELECT DISTINCT queue FROM inserted WHERE state = 'available') AS q
)
SELECT (SELECT array_agg(id ORDER BY id) FROM inserted) AS ids, (SELECT sent FROM notified) AS notified
