-- The leadership table, for layouts (oban-py) that were installed without it.
CREATE UNLOGGED TABLE IF NOT EXISTS oban_peers (
    name text NOT NULL PRIMARY KEY,
    node text NOT NULL,
    started_at timestamp NOT NULL,
    expires_at timestamp NOT NULL
)
