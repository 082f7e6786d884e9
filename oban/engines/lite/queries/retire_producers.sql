UPDATE oban_producers
SET expires_at = :now, meta = json_set(meta, '$.ttl', 0)
WHERE uuid IN (SELECT value FROM json_each(:uuids))
