SELECT node FROM oban_peers WHERE name = %(name)s
