import type { Sql } from '@relay/db';

/** A stalled attempt the reaper handled. */
export interface ReapedTaskRun {
  id: string;
  runId: string;
  taskId: string;
  attempt: number;
  queue: string;
  outcome: 'REQUEUED' | 'FAILED';
}

/** The reaper's slice of writes: stalled RUNNING -> READY (attempts left) or FAILED ('worker lost'). */
export type ReaperRepository = ReturnType<typeof createReaperRepository>;

/** Creates the reaper's repository over a pool. */
export function createReaperRepository(sql: Sql) {
  return {
    /**
     * One transaction: locks up to `limit` RUNNING task_runs whose heartbeat (or, never heartbeated,
     * start) is older than `timeoutMs` by the database clock, oldest first, FOR UPDATE SKIP LOCKED (so
     * concurrent reapers take disjoint rows), then moves each to READY when attempts are left, else to
     * FAILED, both with a 'worker lost' error. The status guard in the UPDATE keeps an attempt from being
     * handled twice. Returns the rows moved.
     */
    async reapStaleTaskRuns(timeoutMs: number, limit: number): Promise<ReapedTaskRun[]> {
      const seconds = Math.round(timeoutMs / 100) / 10;
      const rows = await sql<
        { id: string; run_id: string; task_id: string; attempt: number; queue: string; status: string }[]
      >`
        WITH stale AS (
          SELECT id, attempt
          FROM task_runs
          WHERE status = 'RUNNING'
            AND (heartbeat_at < now() - make_interval(secs => ${timeoutMs / 1000})
                 OR (heartbeat_at IS NULL AND started_at < now() - make_interval(secs => ${timeoutMs / 1000})))
          ORDER BY heartbeat_at
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED
        )
        UPDATE task_runs t
        SET status = CASE WHEN t.attempt < t.max_attempts THEN 'READY' ELSE 'FAILED' END,
            worker_id = CASE WHEN t.attempt < t.max_attempts THEN NULL ELSE t.worker_id END,
            ready_at = NULL,
            finished_at = CASE WHEN t.attempt < t.max_attempts THEN NULL ELSE now() END,
            error = 'worker lost: no heartbeat for ' || ${String(seconds)} || 's (attempt ' || t.attempt || ')'
        FROM stale
        WHERE t.id = stale.id AND t.attempt = stale.attempt AND t.status = 'RUNNING'
        RETURNING t.id, t.run_id, t.task_id, t.attempt, t.queue, t.status`;
      return rows.map((r) => ({
        id: r.id,
        runId: r.run_id,
        taskId: r.task_id,
        attempt: r.attempt,
        queue: r.queue,
        outcome: r.status === 'READY' ? 'REQUEUED' : 'FAILED',
      }));
    },
  };
}
