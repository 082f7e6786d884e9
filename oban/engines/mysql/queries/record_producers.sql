INSERT INTO oban_producers (uuid, name, node, queue, meta, started_at, updated_at, expires_at)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON DUPLICATE KEY UPDATE meta = VALUES(meta), updated_at = VALUES(updated_at), expires_at = VALUES(expires_at)
