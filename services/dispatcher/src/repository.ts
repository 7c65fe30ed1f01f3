import { KEYED_BATCH_MAX, type Sql } from '@relay/db';

/** A task_run moved to QUEUED, with what its TaskQueued carries. */
export interface QueuedTaskRun {
  id: string;
  runId: string;
  taskId: string;
  attempt: number;
  queue: string;
  workflowId: string;
  workflowVersion: number;
}

interface QueuedRaw {
  id: string;
  run_id: string;
  task_id: string;
  attempt: number;
  queue: string;
  workflow_id: string;
  workflow_version: number;
}

const toQueued = (r: QueuedRaw): QueuedTaskRun => ({
  id: r.id,
  runId: r.run_id,
  taskId: r.task_id,
  attempt: r.attempt,
  queue: r.queue,
  workflowId: r.workflow_id,
  workflowVersion: r.workflow_version,
});

/** The dispatcher's slice of writes: task_runs READY -> QUEUED. */
export type DispatcherRepository = ReturnType<typeof createDispatcherRepository>;

/**
 * Creates the dispatcher's repository over a pool; `keyed` (see @relay/db's createKeyedSql) takes the
 * small batches of the hot statement.
 */
export function createDispatcherRepository(sql: Sql, keyed: Sql = sql) {
  return {
    /**
     * READY -> QUEUED with `attempt += 1` for the given ids whose `ready_at` has passed (database clock)
     * and whose run is RUNNING. One statement; row locks make each READY row move once however many
     * dispatchers race on it. Returns the rows it moved; duplicates and rows no longer READY match nothing.
     */
    async queueTaskRuns(ids: readonly string[]): Promise<QueuedTaskRun[]> {
      if (ids.length === 0) return [];
      // The run is read by scalar subqueries, not joined: with `FROM runs r` the planner started at the
      // one RUNNING run and scanned every READY row of it (estimated from the average run's size),
      // filtering `id = ANY($1)` linearly once the prepared statement went generic: a 10,000-wide
      // fan-out cost ~90 µs of Postgres CPU per task. A subquery keeps the scan on the primary key,
      // so a batch costs O(batch) whatever the run's width. Under READ COMMITTED a row updated
      // concurrently is re-checked (EvalPlanQual) with the subquery re-run, as the join was.
      // `t.status || ''` keeps it off idx_task_runs_ready_since too: with lagging statistics the planner
      // took that partial index for tiny and read every READY row (dead entries included) per batch.
      // workflow_version is set by ingest on every run; 1 only covers rows written before versioning.
      const db = ids.length <= KEYED_BATCH_MAX ? keyed : sql;
      const rows = await db<QueuedRaw[]>`
        UPDATE task_runs t
        SET status = 'QUEUED', attempt = t.attempt + 1, queued_at = now()
        WHERE t.id = ANY(${[...ids].sort()}::text[])
          AND t.status || '' = 'READY' AND (t.ready_at IS NULL OR t.ready_at <= now())
          AND (SELECT r.status FROM runs r WHERE r.id = t.run_id) = 'RUNNING'
        RETURNING t.id, t.run_id, t.task_id, t.attempt, t.queue, t.workflow_id,
                  (SELECT coalesce(r.workflow_version, 1) FROM runs r WHERE r.id = t.run_id) AS workflow_version`;
      return rows.map(toQueued);
    },

    /**
     * The ids among `ids` that are READY with a `ready_at` in a RUNNING run, with the milliseconds left
     * by the database clock (0 when it has passed: so a skewed process clock cannot make them spin).
     * Read only. A row is never required to be still ahead here: one that queueTaskRuns missed as not
     * yet due may have come due before this statement (its `now()` is later), and dropping it would
     * leave the retry to the reconciler, seconds later. The delayed set's scores are whole milliseconds
     * (TaskReady's notBefore) while `ready_at` has microseconds, so an entry is often taken <1 ms early.
     */
    async listNotYetDue(ids: readonly string[]): Promise<{ id: string; waitMs: number }[]> {
      if (ids.length === 0) return [];
      const rows = await sql<{ id: string; wait_ms: number }[]>`
        SELECT t.id, greatest(0, ceil(EXTRACT(EPOCH FROM (t.ready_at - now())) * 1000))::float8 AS wait_ms
        FROM task_runs t
        WHERE t.id = ANY(${[...ids]}::text[]) AND t.status = 'READY' AND t.ready_at IS NOT NULL
          AND (SELECT r.status FROM runs r WHERE r.id = t.run_id) = 'RUNNING'`;
      return rows.map((r) => ({ id: r.id, waitMs: Math.max(0, r.wait_ms) }));
    },

    /** The ids among `ids` that are QUEUED in a RUNNING run, as TaskQueued describes them. Read only. */
    async listQueued(ids: readonly string[]): Promise<QueuedTaskRun[]> {
      if (ids.length === 0) return [];
      const rows = await sql<QueuedRaw[]>`
        SELECT t.id, t.run_id, t.task_id, t.attempt, t.queue, t.workflow_id,
               coalesce(r.workflow_version, 1) AS workflow_version
        FROM task_runs t JOIN runs r ON r.id = t.run_id
        WHERE t.id = ANY(${[...ids]}::text[]) AND t.status = 'QUEUED' AND r.status = 'RUNNING'`;
      return rows.map(toQueued);
    },
  };
}
