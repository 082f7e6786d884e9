-- Oban v4: the id-wrapping helper is no longer used.
DROP FUNCTION IF EXISTS oban_wrap_id(bigint);
