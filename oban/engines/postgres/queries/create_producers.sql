-- Heartbeats: one row per producer (a queue on a node), refreshed every few seconds. The layout
-- is oban-py's, so both implementations can share the table; our rows keep their ttl in meta.
CREATE UNLOGGED TABLE IF NOT EXISTS oban_producers (
    uuid uuid PRIMARY KEY,
    name text NOT NULL DEFAULT 'oban',
    node text NOT NULL,
    queue text NOT NULL,
    meta jsonb NOT NULL DEFAULT '{}',
    started_at timestamp WITHOUT TIME ZONE NOT NULL DEFAULT timezone('UTC', now()),
    updated_at timestamp WITHOUT TIME ZONE NOT NULL DEFAULT timezone('UTC', now())
)
