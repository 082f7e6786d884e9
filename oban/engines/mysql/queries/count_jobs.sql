-- How many jobs each queue holds in each state.
SELECT queue, state, count(*) AS n
FROM oban_jobs
GROUP BY queue, state
