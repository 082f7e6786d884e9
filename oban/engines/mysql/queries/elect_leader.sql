-- Take the lease when it expired, renew it when it is ours. Assignments run left to right and
-- each sees the ones before it, so started_at and node are decided on the old row first.
INSERT INTO oban_peers (name, node, started_at, expires_at)
VALUES (%(name)s, %(node)s, %(now)s, %(expires_at)s)
ON DUPLICATE KEY UPDATE
    started_at = IF(node <> %(node)s AND expires_at < %(now)s, %(now)s, started_at),
    node = IF(expires_at < %(now)s, %(node)s, node),
    expires_at = IF(node = %(node)s, %(expires_at)s, expires_at)
