-- Relay Database Schema v4: fewer indexes to maintain on the hot rows.
--
-- Idempotent like 002 and 003 (IF EXISTS / IF NOT EXISTS): Docker's initdb and `relay migrate` may
-- both run it.
--
-- Every status change of a task_run is a non-HOT update (status appears in the predicates of the
-- partial indexes, and queued_at / ready_at / finished_at are indexed), so each one inserts a new
-- entry into EVERY full index of task_runs, and a task changes status four times (READY, QUEUED,
-- RUNNING, SUCCESS). Before this file the full indexes were: task_runs_pkey (id),
-- idx_task_runs_run_task (run_id, task_id, unique), idx_task_runs_status_run (status, run_id),
-- idx_task_runs_run_id (run_id) and idx_task_runs_task_workflow (task_id, workflow_id). The partial
-- ones (idx_task_runs_heartbeat, _ready_since, _queued_since, _unpropagated) only get an entry when
-- the new row version matches their predicate, so they cost one insert per transition at most.
--
-- Which predicate each full index served (every repository.ts, libs/invariants, scripts):
-- - id = / id = ANY(...): every guarded write and read -> task_runs_pkey.
-- - run_id = ... [AND task_id = ...] (scheduler sweeps and BLOCKED decisions, worker's upstream
--   outputs, ingest's run view, the invariant checker, the reaper's "no task_runs" check, the ON
--   DELETE CASCADE from runs) -> idx_task_runs_run_task, whose leading column is run_id.
-- - status = ... [AND run_id = ...]: idx_task_runs_status_run stays. The reaper's FAILED-task sweep
--   needs it, and without it the scheduler's PENDING -> READY statement (`FROM unnest(...) d WHERE
--   t.id = d.id AND t.status = 'PENDING'`) lost its cheap plan: a quick bench with it dropped put the
--   scheduler's Postgres CPU at 280 µs/task (70 before), that statement in 66 of 70 active samples.
--   Drop it only once that statement no longer depends on it.
-- - The dispatcher's READY -> QUEUED used (status, run_id) to scan every READY row of a run and filter
--   the batch's ids: O(run width) per batch. It now reads the run by subquery and goes through the
--   primary key (services/dispatcher/src/repository.ts).
--
-- Measured on a 10,000-wide fan-out, READY -> QUEUED of 500 rows (EXPLAIN ANALYZE, BUFFERS, WAL): each
-- dropped index is one index insert fewer per row and per status change; every query listed above
-- keeps an index scan (no sequential scan).

-- A prefix of idx_task_runs_run_task (run_id, task_id): every run_id lookup uses that one.
DROP INDEX IF EXISTS idx_task_runs_run_id;

-- Served the seed's foreign key (task_id, workflow_id) -> tasks, which 002 dropped; no query filters
-- task_runs by task_id without run_id.
DROP INDEX IF EXISTS idx_task_runs_task_workflow;
