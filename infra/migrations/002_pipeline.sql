-- Relay Database Schema v2: what the running pipeline needs beyond the seed's schema.
--
-- Every statement here is idempotent (IF NOT EXISTS / IF EXISTS): Docker's initdb runs every
-- file of infra/migrations on a fresh volume, and `relay migrate` must then be able to run this
-- file again without harm (see infra/README.md, "Migrations").

-- =============================================================================
-- Workflow versions: a run pins the definition it started with.
-- `workflows.definition` is the current version; re-applying a changed definition adds a
-- version and never touches runs already started.
-- =============================================================================
CREATE TABLE IF NOT EXISTS workflow_versions (
    workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    definition JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    PRIMARY KEY (workflow_id, version)
);

ALTER TABLE workflows ADD COLUMN IF NOT EXISTS version INTEGER NOT NULL DEFAULT 1;

-- =============================================================================
-- Runs: the pinned version, the progress counter, cancellation and the failure reason.
-- =============================================================================
ALTER TABLE runs ADD COLUMN IF NOT EXISTS workflow_version INTEGER;
-- Tasks whose SUCCESS the scheduler has not yet applied; the run succeeds when it reaches 0.
ALTER TABLE runs ADD COLUMN IF NOT EXISTS remaining_tasks INTEGER;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS cancel_requested_at TIMESTAMPTZ;
ALTER TABLE runs ADD COLUMN IF NOT EXISTS error TEXT;

CREATE INDEX IF NOT EXISTS idx_runs_workflow_started ON runs(workflow_id, started_at DESC);

-- =============================================================================
-- Task runs: one row per (run, task); `attempt` is the number of the latest dispatched attempt.
-- =============================================================================
ALTER TABLE task_runs ADD COLUMN IF NOT EXISTS queue TEXT NOT NULL DEFAULT 'default';
ALTER TABLE task_runs ADD COLUMN IF NOT EXISTS max_attempts INTEGER NOT NULL DEFAULT 1;
-- Needs not yet succeeded; the task becomes READY (or BLOCKED) when it reaches 0.
ALTER TABLE task_runs ADD COLUMN IF NOT EXISTS pending_needs INTEGER NOT NULL DEFAULT 0;
-- Not before: a retry waits for its backoff.
ALTER TABLE task_runs ADD COLUMN IF NOT EXISTS ready_at TIMESTAMPTZ;
ALTER TABLE task_runs ADD COLUMN IF NOT EXISTS queued_at TIMESTAMPTZ;
-- The worker that holds the RUNNING attempt.
ALTER TABLE task_runs ADD COLUMN IF NOT EXISTS worker_id TEXT;
-- Set once, when the scheduler has applied this task's SUCCESS to its dependents and its run.
ALTER TABLE task_runs ADD COLUMN IF NOT EXISTS propagated_at TIMESTAMPTZ;
-- Who approved or rejected a task that required approval.
ALTER TABLE task_runs ADD COLUMN IF NOT EXISTS decided_by TEXT;

CREATE UNIQUE INDEX IF NOT EXISTS idx_task_runs_run_task ON task_runs(run_id, task_id);

-- A run's tasks come from the workflow version it pinned, not from the current `tasks` rows:
-- a task removed by a later version must not be blocked (nor its history deleted) by this key.
ALTER TABLE task_runs DROP CONSTRAINT IF EXISTS task_runs_task_id_workflow_id_fkey;
