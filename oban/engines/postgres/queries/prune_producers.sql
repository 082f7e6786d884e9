-- Rows of producers stale for longer than $3 seconds ($2: the ttl of rows that state none).
DELETE FROM oban_producers
WHERE updated_at < $1::timestamp
      - make_interval(secs => coalesce((meta->>'ttl')::float8, $2::float8) + $3::float8)
