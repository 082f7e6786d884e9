DELETE FROM oban_peers WHERE name = :name AND node = :node
