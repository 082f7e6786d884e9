-- Whether schema $1 exists (creating it needs a privilege that using it does not).
SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1::text)
