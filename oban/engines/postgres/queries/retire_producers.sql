UPDATE oban_producers
SET meta = meta || '{"ttl": 0}'::jsonb, updated_at = $2::timestamp
WHERE uuid::text = ANY($1::text[])
