DELETE FROM oban_jobs WHERE id IN %(ids)s AND state != 'executing'
