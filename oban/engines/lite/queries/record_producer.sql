INSERT INTO oban_producers (uuid, name, node, queue, meta, started_at, updated_at, expires_at)
VALUES (:uuid, :name, :node, :queue, :meta, :started_at, :updated_at, :expires_at)
ON CONFLICT (uuid) DO UPDATE
SET meta = excluded.meta, updated_at = excluded.updated_at, expires_at = excluded.expires_at
