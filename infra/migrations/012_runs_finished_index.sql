-- Relay Database Schema v12: the reaper's retention sweep (RELAY_RETENTION_DAYS) finds the oldest
-- finished runs through an index instead of reading every run.
--
-- Idempotent like 002-011 (IF NOT EXISTS): Docker's initdb and `relay migrate` may both run it.
--
-- Partial on finished runs: a RUNNING run has no entry, so the scheduler's updates of running runs
-- (remaining_tasks) never touch it; a run gets its one entry when it finishes.
CREATE INDEX IF NOT EXISTS idx_runs_finished ON runs(finished_at) WHERE status <> 'RUNNING';
