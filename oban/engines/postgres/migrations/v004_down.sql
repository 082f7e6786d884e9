CREATE OR REPLACE FUNCTION oban_wrap_id(value bigint) RETURNS int AS $$
BEGIN
    RETURN (CASE WHEN value > 2147483647 THEN mod(value, 2147483647) ELSE value END)::int;
END;
$$ LANGUAGE plpgsql IMMUTABLE;
