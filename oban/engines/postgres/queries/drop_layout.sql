-- Uninstall a layout that was not installed through these migrations (oban-py's). Its own
-- oban_leaders and oban_producers tables are left to oban-py.
DROP TABLE IF EXISTS oban_peers;
DROP TABLE IF EXISTS oban_jobs;
DROP TYPE IF EXISTS oban_job_state;
