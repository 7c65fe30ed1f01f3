import type { Sql } from '@relay/db';
import type { Redis } from 'ioredis';

/**
 * Checks a finished run against what Relay promises, from the database and the results stream:
 * - no task started before every one of its needs succeeded;
 * - a finished run has no task in a non-terminal state;
 * - each task's success was published exactly once (its final state was written once).
 * Returns the list of violations (empty when the run is sound).
 */
export async function findViolations(
  sql: Sql,
  redis: Redis,
  prefix: string,
  runId: string,
): Promise<string[]> {
  const problems: string[] = [];
  const [run] = await sql<{ status: string; definition: { tasks: { id: string; needs: string[] }[] } }[]>`
    SELECT r.status, v.definition
    FROM runs r JOIN workflow_versions v ON v.workflow_id = r.workflow_id AND v.version = r.workflow_version
    WHERE r.id = ${runId}`;
  if (!run) return [`run ${runId} not found`];
  const rows = await sql<
    { task_id: string; status: string; started_at: Date | null; finished_at: Date | null; id: string }[]
  >`SELECT id, task_id, status, started_at, finished_at FROM task_runs WHERE run_id = ${runId}`;
  const byTask = new Map(rows.map((r) => [r.task_id, r]));
  for (const task of run.definition.tasks) {
    const row = byTask.get(task.id);
    if (!row) {
      problems.push(`task ${task.id} has no task_run`);
      continue;
    }
    if (row.status === 'SUCCESS' || row.started_at) {
      for (const need of task.needs) {
        const needRow = byTask.get(need);
        if (needRow?.status !== 'SUCCESS') {
          if (row.started_at)
            problems.push(`task ${task.id} started while its need ${need} is ${needRow?.status}`);
          continue;
        }
        if (row.started_at && needRow.finished_at && row.started_at < needRow.finished_at) {
          problems.push(`task ${task.id} started before its need ${need} finished`);
        }
      }
    }
  }
  if (run.status !== 'RUNNING') {
    for (const row of rows) {
      if (!['SUCCESS', 'FAILED', 'CANCELLED'].includes(row.status)) {
        problems.push(`run is ${run.status} but task ${row.task_id} is ${row.status}`);
      }
    }
  }
  const succeeded = new Map<string, number>();
  const entries = (await redis.xrange(`${prefix}:results`, '-', '+')) as [string, string[]][];
  for (const [, fields] of entries) {
    const event = JSON.parse(fields[1] ?? '{}') as {
      type: string;
      data: { runId: string; taskRunId: string };
    };
    if (event.type === 'TaskSucceeded' && event.data.runId === runId) {
      succeeded.set(event.data.taskRunId, (succeeded.get(event.data.taskRunId) ?? 0) + 1);
    }
  }
  for (const row of rows) {
    const count = succeeded.get(row.id) ?? 0;
    if (row.status === 'SUCCESS' && count !== 1)
      problems.push(`task ${row.task_id} succeeded ${count} times`);
  }
  return problems;
}
