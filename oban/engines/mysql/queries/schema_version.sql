SELECT MAX(version) FROM oban_schema
