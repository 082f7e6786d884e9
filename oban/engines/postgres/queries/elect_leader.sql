-- Take the lease when it is free or expired, renew it when it is ours; a row comes back only
-- when $2 holds the lease afterwards.
INSERT INTO oban_peers AS p (name, node, started_at, expires_at)
VALUES ($1::text, $2::text, $3::timestamp, $4::timestamp)
ON CONFLICT (name) DO UPDATE
SET node = excluded.node,
    started_at = CASE WHEN p.node = excluded.node THEN p.started_at ELSE excluded.started_at END,
    expires_at = excluded.expires_at
WHERE p.node = excluded.node OR p.expires_at < $3::timestamp
RETURNING p.node
