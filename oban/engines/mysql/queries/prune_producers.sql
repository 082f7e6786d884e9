-- Rows of producers gone for a while; their orphans were rescued first, in this transaction.
DELETE FROM oban_producers WHERE expires_at < %(forget_before)s
