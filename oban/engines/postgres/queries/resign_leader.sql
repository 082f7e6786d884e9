DELETE FROM oban_peers WHERE name = $1::text AND node = $2::text
