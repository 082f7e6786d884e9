-- Each per-state time index holds only the state it serves. Before, every job had an entry in all
-- four whatever its state, so each claim and each ack moved an entry in four indexes as big as
-- the table, and both slowed down as finished jobs piled up. Now a claim touches none of them and
-- an ack adds one entry, to the index of the state it writes. The queries name the state as these
-- WHERE clauses do, so SQLite (which keeps no statistics here) still picks them for prune and
-- job_activity; rescue finds executing jobs through the (state, queue, ...) index, as they are few.
DROP INDEX IF EXISTS oban_jobs_state_completed_at_index;
DROP INDEX IF EXISTS oban_jobs_state_cancelled_at_index;
DROP INDEX IF EXISTS oban_jobs_state_discarded_at_index;
DROP INDEX IF EXISTS oban_jobs_state_attempted_at_index;
CREATE INDEX IF NOT EXISTS oban_jobs_state_completed_at_index
    ON oban_jobs (state, completed_at) WHERE state = 'completed';
CREATE INDEX IF NOT EXISTS oban_jobs_state_cancelled_at_index
    ON oban_jobs (state, cancelled_at) WHERE state = 'cancelled';
CREATE INDEX IF NOT EXISTS oban_jobs_state_discarded_at_index
    ON oban_jobs (state, discarded_at) WHERE state = 'discarded';
CREATE INDEX IF NOT EXISTS oban_jobs_state_attempted_at_index
    ON oban_jobs (state, attempted_at) WHERE state = 'retryable';
