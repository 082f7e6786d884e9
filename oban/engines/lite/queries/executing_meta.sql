SELECT meta FROM oban_jobs WHERE id = :id AND attempt = :attempt AND state = 'executing'
