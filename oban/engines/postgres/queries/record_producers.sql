INSERT INTO oban_producers AS p (uuid, name, node, queue, meta, started_at, updated_at)
SELECT u.uuid::uuid, u.name, u.node, u.queue, u.meta::jsonb, u.started_at, u.updated_at
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamp[], $7::timestamp[])
     AS u(uuid, name, node, queue, meta, started_at, updated_at)
ON CONFLICT (uuid) DO UPDATE SET meta = excluded.meta, updated_at = excluded.updated_at
