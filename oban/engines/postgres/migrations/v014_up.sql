-- Oban v14: the suspended state (held until resumed).
ALTER TYPE oban_job_state ADD VALUE IF NOT EXISTS 'suspended' BEFORE 'scheduled';
