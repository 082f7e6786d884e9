-- Oban v11: the leadership lease. Unlogged: a lease is worthless after a crash anyway.
CREATE UNLOGGED TABLE IF NOT EXISTS oban_peers (
    name text NOT NULL PRIMARY KEY,
    node text NOT NULL,
    started_at timestamp NOT NULL,
    expires_at timestamp NOT NULL
);
