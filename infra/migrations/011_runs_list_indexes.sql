-- Relay Database Schema v11: GET /runs filtered by status, or by workflow and status, reads an index
-- in its own order instead of every matching run.
--
-- Idempotent like 002-010 (IF [NOT] EXISTS): Docker's initdb and `relay migrate` may both run it.
--
-- GET /runs lists newest first (started_at DESC, id) under optional workflow_id and status filters.
-- With 200,000 finished runs, ?workflowId=X&status=CANCELLED&limit=50 combined idx_runs_status and
-- idx_runs_workflow_id in a bitmap, read the heap of all 5,000 matches (2,862 buffers) and sorted them
-- to keep 50; with (workflow_id, status, started_at DESC, id) it is a plain index scan of 32 buffers
-- (0.49 ms). (status, started_at DESC, id) does the same for a status filter alone, and its leading
-- column serves every other lookup by status.
--
-- 001's idx_runs_status and idx_runs_workflow_id are dropped: each is a prefix of an index here or of
-- 002's idx_runs_workflow_started, and every index costs each run insert (the hot path of POST runs).
CREATE INDEX IF NOT EXISTS idx_runs_status_started ON runs(status, started_at DESC, id);
CREATE INDEX IF NOT EXISTS idx_runs_workflow_status_started ON runs(workflow_id, status, started_at DESC, id);
DROP INDEX IF EXISTS idx_runs_status;
DROP INDEX IF EXISTS idx_runs_workflow_id;
