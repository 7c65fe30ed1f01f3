import type { Sql } from '@relay/db';
import { waitFor } from '@relay/testing';

/** The columns of a task_run the fault tests compare. */
export interface TaskRow {
  id: string;
  run_id: string;
  task_id: string;
  status: string;
  attempt: number;
  output: string | null;
  error: string | null;
  worker_id: string | null;
  started_at: Date | null;
  finished_at: Date | null;
}

/** One task_run by run and task id (throws when missing). */
export async function taskRow(sql: Sql, runId: string, taskId: string): Promise<TaskRow> {
  const [row] = await sql<TaskRow[]>`
    SELECT id, run_id, task_id, status, attempt, output, error, worker_id, started_at, finished_at
    FROM task_runs WHERE run_id = ${runId} AND task_id = ${taskId}`;
  if (!row) throw new Error(`task_run ${runId}:${taskId} not found`);
  return row;
}

/** Every task_run of `runIds`, ordered by id. */
export async function taskRows(sql: Sql, runIds: readonly string[]): Promise<TaskRow[]> {
  return sql<TaskRow[]>`
    SELECT id, run_id, task_id, status, attempt, output, error, worker_id, started_at, finished_at
    FROM task_runs WHERE run_id = ANY(${[...runIds]}::text[]) ORDER BY id`;
}

/** Polls a task_run until `match` holds; returns it. */
export async function waitForTask(
  sql: Sql,
  runId: string,
  taskId: string,
  match: (row: TaskRow) => boolean,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<TaskRow> {
  return waitFor(
    async () => {
      const row = await taskRow(sql, runId, taskId).catch(() => undefined);
      return row && match(row) ? row : undefined;
    },
    { timeoutMs, intervalMs, message: `task ${runId}:${taskId} did not reach the expected state` },
  );
}
