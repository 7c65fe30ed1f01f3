import { readFileSync } from 'node:fs';
import type { Bus } from '@relay/bus';
import type { AnyEnvelope } from '@relay/contracts';
import type { Sql } from '@relay/db';
import { createLogger, type Redis } from '@relay/runtime';
import type { TaskDefinition, WorkflowDefinition } from '@relay/workflow';
import type { TaskContext } from '../src/types.js';

/** A normalized task with the documented defaults. */
export function task(id: string, extra: Partial<TaskDefinition> = {}): TaskDefinition {
  return {
    id,
    needs: [],
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

/** Inserts a workflow and its version 1, as ingest does on apply. */
export async function insertWorkflow(sql: Sql, id: string, tasks: TaskDefinition[]): Promise<void> {
  const def: WorkflowDefinition = { id, name: id, on: {}, tasks };
  const json = sql.json(JSON.parse(JSON.stringify(def)));
  await sql`INSERT INTO workflows (id, name, definition, version) VALUES (${id}, ${id}, ${json}, 1)`;
  await sql`INSERT INTO workflow_versions (workflow_id, version, definition) VALUES (${id}, 1, ${json})`;
}

let seq = 0;

/**
 * Inserts a RUNNING run with `queued` tasks QUEUED at attempt 1 (as the dispatcher leaves them) and
 * `done` tasks SUCCESS with the given outputs; returns the run id.
 */
export async function insertRun(
  sql: Sql,
  workflowId: string,
  opts: { input?: unknown; queued: string[]; done?: Record<string, unknown> },
): Promise<string> {
  seq += 1;
  const runId = `run-${process.pid}-${seq}`;
  await sql`INSERT INTO runs (id, workflow_id, status, input, workflow_version)
            VALUES (${runId}, ${workflowId}, 'RUNNING', ${sql.json(JSON.parse(JSON.stringify(opts.input ?? {})))}, 1)`;
  for (const t of opts.queued) {
    await sql`INSERT INTO task_runs (id, run_id, task_id, workflow_id, status, attempt)
              VALUES (${`${runId}:${t}`}, ${runId}, ${t}, ${workflowId}, 'QUEUED', 1)`;
  }
  for (const [t, output] of Object.entries(opts.done ?? {})) {
    await sql`INSERT INTO task_runs (id, run_id, task_id, workflow_id, status, attempt, output, finished_at)
              VALUES (${`${runId}:${t}`}, ${runId}, ${t}, ${workflowId}, 'SUCCESS', 1, ${JSON.stringify(output)}, now())`;
  }
  return runId;
}

/** Publishes TaskQueued for `taskIds` of a run (attempt 1 unless given), as the dispatcher does. */
export async function publishQueued(
  bus: Bus,
  workflowId: string,
  runId: string,
  taskIds: string[],
  attempt = 1,
): Promise<void> {
  await bus.publish(
    taskIds.map((taskId) => ({
      type: 'TaskQueued' as const,
      data: {
        runId,
        taskId,
        taskRunId: `${runId}:${taskId}`,
        attempt,
        queue: 'default',
        workflowId,
        workflowVersion: 1,
      },
    })),
  );
}

/** A task_run row as the tests inspect it. */
export interface Row {
  id: string;
  status: string;
  attempt: number;
  output: string | null;
  input: unknown;
  error: string | null;
  worker_id: string | null;
  heartbeat_at: Date | null;
}

/** One task_run by id. */
export async function row(sql: Sql, id: string): Promise<Row | undefined> {
  const [r] = await sql<Row[]>`
    SELECT id, status, attempt, output, input, error, worker_id, heartbeat_at FROM task_runs WHERE id = ${id}`;
  return r;
}

/** Every envelope in a stream, oldest first. */
export async function readStream(redis: Redis, key: string): Promise<AnyEnvelope[]> {
  const entries = await redis.xrange(key, '-', '+');
  return entries.map(([, f]) => JSON.parse(f[f.indexOf('event') + 1] ?? 'null') as AnyEnvelope);
}

/** Events of a stream about one task run. */
export async function eventsOf(redis: Redis, key: string, taskRunId: string): Promise<AnyEnvelope[]> {
  return (await readStream(redis, key)).filter(
    (e) => 'taskRunId' in e.data && (e.data as { taskRunId: string }).taskRunId === taskRunId,
  );
}

/** False once the process is gone (or a zombie nobody reaped yet: it runs nothing any more). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The context of one attempt, for tests that run a handler directly (runAttempt supplies the signal). */
export const attemptContext: Omit<TaskContext, 'signal'> = {
  runId: 'r',
  taskId: 't',
  taskRunId: 'r:t',
  attempt: 1,
  workflowId: 'wf',
  queue: 'default',
  logger: createLogger({ service: 'worker-test', level: 'silent' }),
};
