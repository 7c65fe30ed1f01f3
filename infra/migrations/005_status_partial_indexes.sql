-- Relay Database Schema v5: idx_task_runs_status_run gives way to two partial indexes.
--
-- Idempotent like 002-004 (IF EXISTS / IF NOT EXISTS): Docker's initdb and `relay migrate` may both
-- run it.
--
-- A task's row has about six versions: the INSERT, then PENDING -> READY, READY -> QUEUED,
-- QUEUED -> RUNNING, RUNNING -> SUCCESS and propagated_at. None is a HOT update (status is indexed and
-- in the partial indexes' predicates), so every version adds an entry to every full index:
-- task_runs_pkey, idx_task_runs_run_task and, before this file, idx_task_runs_status_run (status,
-- run_id). 004 kept the last one for two statements. With custom plans (createSql sets
-- plan_cache_mode = force_custom_plan) both are served by partial indexes that get one entry per task
-- at most instead of six.
--
-- Audit: every statement on task_runs in services/*/src/repository.ts, libs/invariants, scripts/ and
-- the API's run view, EXPLAIN (ANALYZE) with custom plans, median of 5-7, on 10,000 finished 10-task
-- runs (3% FAILED) + a 100,000-task fan-out in flight (40k SUCCESS, 2k unpropagated, 10k RUNNING,
-- 10k QUEUED, 38k READY, 100 FAILED) + 200 tree runs in flight; and the same plus a second 100k
-- fan-out whose root just succeeded (100k PENDING). Milliseconds with status_run / with neither /
-- with the partial index below:
-- - The reaper's FAILED-task sweep (listUnhandledFailures: RUNNING runs JOIN task_runs ON run_id AND
--   status = 'FAILED') probed (status, run_id) per RUNNING run: 1.6-2.8 / sequential scan of
--   task_runs, 31-91 and growing with history / idx_task_runs_failed, 0.8-1.4.
-- - The scheduler's PENDING -> READY chunk (`FROM unnest(...) d WHERE t.id = d.id AND t.status =
--   'PENDING'`) hashes the PENDING rows when the chunk is large: 1,200 ids 16-23 / sequential scan
--   34-38 / idx_task_runs_pending 18-19; 5,000 ids (the fan-out's root) 132-152 / 160-172 / 81-106.
--   Small chunks, and propagatePlanned's dependents, go through the primary key (or this index) either
--   way. 004's 280 µs/task without status_run was measured before createSql forced custom plans.
-- - Everything else has an id or run_id key: the primary key, idx_task_runs_run_task or the reconciler's
--   partial indexes, with the same plan and timings. The run sweep, approve/reject, retries and the
--   fault tests' counts move from status_run to run_task or the primary key at equal cost. Losses
--   measured: RunStarted's first READY page for 200 runs at once, 0.55 -> 2.1 ms (run_task, filtering
--   status), and the bench's timeout diagnostic (task_runs by workflow) 46 -> 61 ms (sequential scan).
--
-- Write side, the services' statements in batches of 500 over 100,000 new tasks (INSERT, the five
-- updates above, the attempt history row), on the first data set: B-tree WAL records 2,338,031 ->
-- 1,828,892 (23.4 -> 18.3 per task), WAL of those transactions 331.5 -> 294.8 MB (-11%; B-tree part
-- 172.2 -> 135.4 MB). Wall time moved within the noise of the shared machine (medians 16.8 s / 17.5 s).

-- One entry per FAILED task (an ended attempt the scheduler has not yet retried, or the task that failed
-- its run): the sweep probes it once per RUNNING run.
CREATE INDEX IF NOT EXISTS idx_task_runs_failed ON task_runs(run_id) WHERE status = 'FAILED';

-- One entry per task created PENDING (and per decrement that leaves it PENDING): what the PENDING ->
-- READY chunk hashes instead of scanning the table.
CREATE INDEX IF NOT EXISTS idx_task_runs_pending ON task_runs(id) WHERE status = 'PENDING';

DROP INDEX IF EXISTS idx_task_runs_status_run;
