-- The ids were locked and checked in the same transaction.
DELETE FROM oban_jobs WHERE id IN %(ids)s
