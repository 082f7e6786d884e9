SELECT uuid::text AS uuid, name, node, queue, meta, started_at, updated_at
FROM oban_producers
ORDER BY name, node, queue, uuid
