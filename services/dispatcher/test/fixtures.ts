import type { AnyEnvelope, Envelope, EventType } from '@relay/contracts';
import type { Sql } from '@relay/db';
import type { Redis } from '@relay/runtime';

/** Inserts a one-version workflow and a RUNNING run of it with `count` READY task_runs `t0..t{count-1}`. */
export async function insertReadyRun(
  sql: Sql,
  runId: string,
  opts: { count?: number; queue?: string; readyInMs?: number; workflowId?: string } = {},
): Promise<string[]> {
  const workflowId = opts.workflowId ?? 'wf';
  const count = opts.count ?? 1;
  const definition = { id: workflowId, name: workflowId, on: {}, tasks: [] };
  await sql`
    INSERT INTO workflows (id, name, definition) VALUES (${workflowId}, ${workflowId}, ${sql.json(definition)})
    ON CONFLICT (id) DO NOTHING`;
  await sql`
    INSERT INTO workflow_versions (workflow_id, version, definition) VALUES (${workflowId}, 1, ${sql.json(definition)})
    ON CONFLICT DO NOTHING`;
  await sql`
    INSERT INTO runs (id, workflow_id, status, workflow_version, remaining_tasks)
    VALUES (${runId}, ${workflowId}, 'RUNNING', 1, ${count})`;
  const taskIds = Array.from({ length: count }, (_, i) => `t${i}`);
  await sql`
    INSERT INTO task_runs (id, run_id, workflow_id, task_id, status, attempt, queue, ready_at)
    SELECT ${runId} || ':' || t, ${runId}, ${workflowId}, t, 'READY', 0, ${opts.queue ?? 'default'},
           CASE WHEN ${opts.readyInMs ?? null}::int IS NULL THEN NULL
                ELSE now() + ${opts.readyInMs ?? 0}::int * interval '1 millisecond' END
    FROM unnest(${taskIds}::text[]) AS t`;
  return taskIds.map((t) => `${runId}:${t}`);
}

/** The envelopes of one type in a stream, oldest first. */
export async function readEvents<K extends EventType>(
  redis: Redis,
  key: string,
  type: K,
): Promise<Envelope<K>[]> {
  const entries = await redis.xrange(key, '-', '+');
  return entries
    .map(([, fields]) => JSON.parse(fields[fields.indexOf('event') + 1] ?? 'null') as AnyEnvelope)
    .filter((e) => e.type === type) as Envelope<K>[];
}

/** A task_run's dispatch state. */
export async function taskRun(sql: Sql, id: string) {
  const [row] = await sql<
    { status: string; attempt: number; queued_at: Date | null; ready_at: Date | null }[]
  >`
    SELECT status, attempt, queued_at, ready_at FROM task_runs WHERE id = ${id}`;
  return row;
}

/** True when `group` has read and acked every entry of `stream` (XINFO GROUPS lag and pending are 0). */
export async function isGroupIdle(redis: Redis, stream: string, group: string): Promise<boolean> {
  if (!(await redis.exists(stream))) return true;
  const groups = (await redis.xinfo('GROUPS', stream)) as unknown[][];
  for (const g of groups) {
    const info = new Map<string, unknown>();
    for (let i = 0; i < g.length; i += 2) info.set(String(g[i]), g[i + 1]);
    if (info.get('name') === group) return info.get('pending') === 0 && info.get('lag') === 0;
  }
  return false;
}
