import type { AnyEnvelope, Envelope, EventType } from '@relay/contracts';
import type { Sql, TransactionSql } from '@relay/db';
import type { Redis } from '@relay/runtime';
import type { TaskDefinition, WorkflowDefinition } from '@relay/workflow';

/** A normalized task with the documented defaults. */
export function task(id: string, needs: string[] = [], extra: Partial<TaskDefinition> = {}): TaskDefinition {
  return {
    id,
    needs,
    type: 'noop',
    with: {},
    retries: 0,
    backoff: { initialMs: 1000, factor: 2, maxMs: 60_000 },
    timeoutMs: null,
    queue: 'default',
    requiresApproval: false,
    ...extra,
  };
}

/** A normalized workflow definition. */
export function workflow(id: string, tasks: TaskDefinition[]): WorkflowDefinition {
  return { id, name: id, on: {}, tasks };
}

/** Inserts a workflow and its version row, as ingest does on apply. */
export async function insertWorkflow(
  sql: Sql | TransactionSql,
  def: WorkflowDefinition,
  version = 1,
): Promise<void> {
  await sql`
    INSERT INTO workflows (id, name, definition, version)
    VALUES (${def.id}, ${def.name}, ${sql.json(JSON.parse(JSON.stringify(def)))}, ${version})
    ON CONFLICT (id) DO UPDATE SET definition = EXCLUDED.definition, version = EXCLUDED.version`;
  await sql`
    INSERT INTO workflow_versions (workflow_id, version, definition)
    VALUES (${def.id}, ${version}, ${sql.json(JSON.parse(JSON.stringify(def)))})`;
}

/** Inserts a RUNNING run pinned to `version`, as ingest does before publishing RunStarted. */
export async function insertRun(
  sql: Sql,
  runId: string,
  workflowId: string,
  version: number,
  opts: { cancelRequested?: boolean } = {},
): Promise<void> {
  await sql`
    INSERT INTO runs (id, workflow_id, status, workflow_version, cancel_requested_at)
    VALUES (${runId}, ${workflowId}, 'RUNNING', ${version}, ${opts.cancelRequested ? sql`now()` : null})`;
}

/** Every envelope in a stream, oldest first. */
export async function readStream(redis: Redis, key: string): Promise<AnyEnvelope[]> {
  const entries = await redis.xrange(key, '-', '+');
  return entries.map(
    ([, fields]) => JSON.parse(fields[fields.indexOf('event') + 1] ?? 'null') as AnyEnvelope,
  );
}

/** The envelopes of one type in a stream. */
export async function readEvents<K extends EventType>(
  redis: Redis,
  key: string,
  type: K,
): Promise<Envelope<K>[]> {
  return (await readStream(redis, key)).filter(
    (e): e is Envelope<K> & AnyEnvelope => e.type === type,
  ) as Envelope<K>[];
}

/** A task_run row as the tests inspect it. */
export interface TaskRunRow {
  task_id: string;
  status: string;
  attempt: number;
  pending_needs: number;
  max_attempts: number;
  queue: string;
  ready_at: Date | null;
  finished_at: Date | null;
  propagated_at: Date | null;
  decided_by: string | null;
  error: string | null;
}

/** The task_runs of a run keyed by task id. */
export async function taskRuns(sql: Sql, runId: string): Promise<Map<string, TaskRunRow>> {
  const rows = await sql<TaskRunRow[]>`
    SELECT task_id, status, attempt, pending_needs, max_attempts, queue, ready_at, finished_at, propagated_at,
           decided_by, error
    FROM task_runs WHERE run_id = ${runId}`;
  return new Map(rows.map((r) => [r.task_id, r]));
}

/** Moves task_runs to SUCCESS with attempt 1, as a worker would. */
export async function markSucceeded(sql: Sql, runId: string, taskIds: string[]): Promise<void> {
  await sql`
    UPDATE task_runs SET status = 'SUCCESS', attempt = 1, finished_at = now()
    WHERE run_id = ${runId} AND task_id = ANY(${taskIds}::text[])`;
}

/** Sets a task_run's status and attempt, as a worker or the reaper would. */
export async function setTaskRun(
  sql: Sql,
  runId: string,
  taskId: string,
  status: string,
  attempt: number,
  error: string | null = null,
): Promise<void> {
  await sql`
    UPDATE task_runs SET status = ${status}, attempt = ${attempt}, error = ${error}
    WHERE run_id = ${runId} AND task_id = ${taskId}`;
}

/** True when `group` has read every entry of `stream` and acked it (XINFO GROUPS lag and pending are 0). */
export async function isGroupIdle(redis: Redis, stream: string, group: string): Promise<boolean> {
  const exists = await redis.exists(stream);
  if (!exists) return true;
  const groups = (await redis.xinfo('GROUPS', stream)) as unknown[][];
  for (const g of groups) {
    const info = new Map<string, unknown>();
    for (let i = 0; i < g.length; i += 2) info.set(String(g[i]), g[i + 1]);
    if (info.get('name') !== group) continue;
    return info.get('pending') === 0 && info.get('lag') === 0;
  }
  return false;
}
