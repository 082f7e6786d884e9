-- Serialise unique inserts: each key hashes to one of these rows, locked until commit.
SELECT bucket FROM oban_unique_locks WHERE bucket IN %(buckets)s ORDER BY bucket FOR UPDATE
