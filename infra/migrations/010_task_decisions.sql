-- Relay Database Schema v10: approvals and rejections are recorded before they are announced.
--
-- Idempotent like 002-009: Docker's initdb and `relay migrate` may both run it.
--
-- Ingest answers POST /runs/:id/tasks/:taskId/approve (or reject) with 202 once the decision is written
-- here, then publishes TaskApproved (TaskRejected). If that event is lost (Redis restarted without
-- persistence), the reaper's reconciler finds the task still BLOCKED with a decision older than its grace
-- and publishes it again. A later request for the same task, while it is still BLOCKED, replaces the row.
CREATE TABLE IF NOT EXISTS task_decisions (
    task_run_id TEXT PRIMARY KEY,
    decision TEXT NOT NULL CHECK (decision IN ('APPROVED', 'REJECTED')),
    decided_by TEXT,
    reason TEXT,
    decided_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- BLOCKED task runs (waiting for a decision): few at any time, and the reconciler's starting point.
CREATE INDEX IF NOT EXISTS idx_task_runs_blocked ON task_runs(id) WHERE status = 'BLOCKED';
