-- Relay Database Schema v3: recovery ("never lose a run").
--
-- Idempotent like 002 (IF NOT EXISTS): Docker's initdb and `relay migrate` may both run it.
-- The reaper's reconciler re-derives lost events from these columns; the invariant checker
-- (@relay/invariants) reads the attempt history. See docs/ARCHITECTURE.md, "Recovery".

-- =============================================================================
-- Task runs: what the worker decided about a failure, and when the reconciler last re-published
-- this row's event (at most one re-publish per grace period, across reaper replicas).
-- =============================================================================
ALTER TABLE task_runs ADD COLUMN IF NOT EXISTS retryable BOOLEAN;
ALTER TABLE task_runs ADD COLUMN IF NOT EXISTS reconciled_at TIMESTAMPTZ;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS reconciled_at TIMESTAMPTZ;

-- "READY since": every statement that sets READY sets ready_at (now(), or now() + backoff).
-- Rows made READY by earlier code carry NULL; they are READY since at least now.
UPDATE task_runs SET ready_at = now() WHERE status = 'READY' AND ready_at IS NULL;

-- =============================================================================
-- Attempt history: one row per ended attempt, written in the same statement as the attempt's
-- end (worker SUCCESS / FAILED / hand-back, reaper LOST). The primary key makes "at most one
-- terminal transition per attempt" hold by construction.
-- =============================================================================
CREATE TABLE IF NOT EXISTS task_attempts (
    task_run_id TEXT NOT NULL REFERENCES task_runs(id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL CHECK (attempt >= 1),
    status TEXT NOT NULL CHECK (status IN ('SUCCESS', 'FAILED', 'LOST', 'HANDED_BACK')),
    worker_id TEXT,
    started_at TIMESTAMPTZ,
    finished_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    error TEXT,
    PRIMARY KEY (task_run_id, attempt)
);

-- =============================================================================
-- Reconciler indexes: partial, so each stays as small as the work it finds (empty at rest).
-- =============================================================================
CREATE INDEX IF NOT EXISTS idx_task_runs_ready_since ON task_runs(ready_at) WHERE status = 'READY';
CREATE INDEX IF NOT EXISTS idx_task_runs_queued_since ON task_runs(queued_at) WHERE status = 'QUEUED';
CREATE INDEX IF NOT EXISTS idx_task_runs_unpropagated ON task_runs(finished_at)
    WHERE status = 'SUCCESS' AND propagated_at IS NULL;
-- RUNNING runs: remaining_tasks IS NULL = task runs never created (RunStarted lost);
-- the same index serves "RUNNING with remaining_tasks <= 0" and the FAILED-task sweep.
CREATE INDEX IF NOT EXISTS idx_runs_running ON runs(remaining_tasks, started_at) WHERE status = 'RUNNING';
CREATE INDEX IF NOT EXISTS idx_runs_cancel_requested ON runs(cancel_requested_at)
    WHERE status = 'RUNNING' AND cancel_requested_at IS NOT NULL;
