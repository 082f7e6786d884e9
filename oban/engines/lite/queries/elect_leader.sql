INSERT INTO oban_peers (name, node, started_at, expires_at)
VALUES (:name, :node, :now, :expires_at)
ON CONFLICT (name) DO UPDATE
SET node = excluded.node,
    started_at = CASE WHEN oban_peers.node = excluded.node THEN oban_peers.started_at
                      ELSE excluded.started_at END,
    expires_at = excluded.expires_at
WHERE oban_peers.node = excluded.node OR oban_peers.expires_at < :now
