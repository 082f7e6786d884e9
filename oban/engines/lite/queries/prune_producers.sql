-- Rows of producers gone for a while; rescue_jobs ran first, so their jobs are already rescued.
DELETE FROM oban_producers WHERE expires_at < :forget_before
