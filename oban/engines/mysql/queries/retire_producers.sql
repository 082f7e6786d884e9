UPDATE oban_producers
SET expires_at = %(now)s, meta = JSON_SET(meta, '$.ttl', 0)
WHERE uuid IN %(uuids)s
