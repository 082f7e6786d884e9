DROP TABLE IF EXISTS oban_producers;
