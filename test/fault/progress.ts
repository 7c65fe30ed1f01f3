import type { Sql } from '@relay/db';
import { waitFor } from '@relay/testing';

/** Tasks of `runIds` that finished (SUCCESS or FAILED attempts), as a count. */
export async function countFinishedTasks(sql: Sql, runIds: readonly string[]): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    SELECT count(*)::int AS n FROM task_runs
    WHERE run_id = ANY(${[...runIds]}::text[]) AND status IN ('SUCCESS', 'FAILED', 'CANCELLED')`;
  return row?.n ?? 0;
}

/**
 * Waits until `by` more tasks of `runIds` have finished than when called (or every run is finished)
 * and returns the time it happened (epoch ms): how long a fleet takes to make progress again.
 */
export async function waitForProgress(
  sql: Sql,
  runIds: readonly string[],
  by: number,
  timeoutMs = 20_000,
): Promise<number> {
  const start = await countFinishedTasks(sql, runIds);
  return waitFor(
    async () => {
      const [row] = await sql<{ finished: number; open: number }[]>`
        SELECT count(*) FILTER (WHERE t.status IN ('SUCCESS', 'FAILED', 'CANCELLED'))::int AS finished,
               count(*) FILTER (WHERE r.status = 'RUNNING')::int AS open
        FROM task_runs t JOIN runs r ON r.id = t.run_id
        WHERE t.run_id = ANY(${[...runIds]}::text[])`;
      if (!row) return undefined;
      return row.finished >= start + by || row.open === 0 ? Date.now() : undefined;
    },
    { timeoutMs, intervalMs: 20, message: `no task of ${runIds.length} runs progressed` },
  );
}

/**
 * Waits until a task of `runIds` starts (claimed by a worker) after `since` (database clock), i.e.
 * new work flows again; returns the time it happened (epoch ms).
 */
export async function waitForNewStart(
  sql: Sql,
  runIds: readonly string[],
  since: Date,
  timeoutMs = 60_000,
): Promise<number> {
  return waitFor(
    async () => {
      const [row] = await sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM task_runs
        WHERE run_id = ANY(${[...runIds]}::text[]) AND started_at > ${since}`;
      return (row?.n ?? 0) > 0 ? Date.now() : undefined;
    },
    { timeoutMs, intervalMs: 20, message: `no task of ${runIds.length} runs started again` },
  );
}
