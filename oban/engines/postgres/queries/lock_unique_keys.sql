-- Serialise inserts of the same unique job until this transaction ends. $1 is sorted, so two
-- transactions always take their locks in the same order.
SELECT count(pg_advisory_xact_lock(hashtextextended(key, 0)))
FROM unnest($1::text[]) AS key
