-- One migration at a time per schema, across every process.
SELECT pg_advisory_xact_lock(hashtextextended('oban migrations ' || $1::text, 0))
