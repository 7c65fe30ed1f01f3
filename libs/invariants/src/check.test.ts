import { createTestDatabase, type TestDatabase } from '@relay/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants } from './check.js';
import type { InvariantRule } from './types.js';

let db: TestDatabase;
let seq = 0;

// a -> b: b needs a.
const DEFINITION = {
  id: 'wf',
  tasks: [
    { id: 'a', needs: [] },
    { id: 'b', needs: ['a'] },
  ],
};

beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql`INSERT INTO workflows (id, name, definition) VALUES ('wf', 'wf', ${db.sql.json(DEFINITION)})`;
  await db.sql`INSERT INTO workflow_versions (workflow_id, version, definition) VALUES ('wf', 1, ${db.sql.json(DEFINITION)})`;
});

afterAll(async () => {
  await db?.drop();
});

interface TaskSpec {
  status: string;
  attempt?: number;
  startedAgoS?: number | null;
  finishedAgoS?: number | null;
  heartbeatAgoS?: number | null;
  propagated?: boolean;
  history?: { attempt: number; status: string }[];
}

/** A run of the a -> b workflow with hand-built task rows; a successful, consistent run by default. */
async function insertRun(
  opts: { status?: string; remaining?: number | null; a?: Partial<TaskSpec>; b?: Partial<TaskSpec> } = {},
): Promise<string> {
  seq += 1;
  const runId = `run-${seq}`;
  await db.sql`
    INSERT INTO runs (id, workflow_id, status, workflow_version, remaining_tasks)
    VALUES (${runId}, 'wf', ${opts.status ?? 'SUCCESS'}, 1, ${opts.remaining === undefined ? 0 : opts.remaining})`;
  const defaults: Record<'a' | 'b', TaskSpec> = {
    a: { status: 'SUCCESS', attempt: 1, startedAgoS: 60, finishedAgoS: 50, propagated: true },
    b: { status: 'SUCCESS', attempt: 1, startedAgoS: 40, finishedAgoS: 30, propagated: true },
  };
  for (const taskId of ['a', 'b'] as const) {
    const spec: TaskSpec = { ...defaults[taskId], ...opts[taskId] };
    const ago = (s: number | null | undefined) => (s === null || s === undefined ? null : s);
    await db.sql`
      INSERT INTO task_runs (id, run_id, task_id, workflow_id, status, attempt, started_at, finished_at,
                             heartbeat_at, propagated_at)
      VALUES (${`${runId}:${taskId}`}, ${runId}, ${taskId}, 'wf', ${spec.status}, ${spec.attempt ?? 1},
              now() - make_interval(secs => ${ago(spec.startedAgoS)}),
              now() - make_interval(secs => ${ago(spec.finishedAgoS)}),
              now() - make_interval(secs => ${ago(spec.heartbeatAgoS)}),
              CASE WHEN ${spec.propagated ?? false} THEN now() END)`;
    const history =
      spec.history ?? (spec.status === 'SUCCESS' ? [{ attempt: spec.attempt ?? 1, status: 'SUCCESS' }] : []);
    for (const h of history) {
      await db.sql`
        INSERT INTO task_attempts (task_run_id, attempt, status) VALUES (${`${runId}:${taskId}`}, ${h.attempt}, ${h.status})`;
    }
  }
  return runId;
}

async function rulesOf(runId: string): Promise<[InvariantRule, string | undefined][]> {
  return (await checkInvariants(db.sql, { runIds: [runId] })).map((v) => [v.rule, v.taskId]);
}

describe('checkInvariants', () => {
  it('finds nothing wrong in a consistent finished run and a consistent running one', async () => {
    const done = await insertRun();
    const running = await insertRun({
      status: 'RUNNING',
      remaining: 1,
      b: { status: 'RUNNING', finishedAgoS: null, heartbeatAgoS: 1, propagated: false },
    });
    expect(await checkInvariants(db.sql, { runIds: [done, running] })).toEqual([]);
  });

  it.each<[string, Parameters<typeof insertRun>[0], [InvariantRule, string | undefined][]]>([
    [
      'a task that started before its need succeeded',
      { b: { startedAgoS: 55 } },
      [['need_not_succeeded', 'b']],
    ],
    [
      'a task SUCCESS while its need failed',
      {
        status: 'FAILED',
        remaining: 1,
        a: { status: 'FAILED', propagated: false, history: [{ attempt: 1, status: 'FAILED' }] },
      },
      [['need_not_succeeded', 'b']],
    ],
    [
      'a finished run with a task still RUNNING',
      {
        status: 'CANCELLED',
        remaining: 1,
        b: { status: 'RUNNING', finishedAgoS: null, heartbeatAgoS: 1, propagated: false },
      },
      [['finished_run_has_open_task', 'b']],
    ],
    [
      'a SUCCESS run with a task CANCELLED',
      { remaining: 1, b: { status: 'CANCELLED', startedAgoS: null, propagated: false } },
      [['success_run_incomplete', undefined]],
    ],
    ['remaining_tasks off by one', { remaining: 1 }, [['remaining_tasks_mismatch', undefined]]],
    [
      'attempt 3 with attempt 1 missing from the history',
      {
        b: {
          attempt: 3,
          history: [
            { attempt: 2, status: 'LOST' },
            { attempt: 3, status: 'SUCCESS' },
          ],
        },
      },
      [['attempt_skipped', 'b']],
    ],
    [
      'a history row after the current attempt',
      {
        b: {
          history: [
            { attempt: 1, status: 'SUCCESS' },
            { attempt: 2, status: 'FAILED' },
          ],
        },
      },
      [['attempt_from_future', 'b']],
    ],
    ['a SUCCESS written without its history row', { b: { history: [] } }, [['success_without_history', 'b']]],
    [
      'a RUNNING task nobody heartbeats',
      {
        status: 'RUNNING',
        remaining: 1,
        b: { status: 'RUNNING', finishedAgoS: null, heartbeatAgoS: 60, propagated: false },
      },
      [['running_without_owner', 'b']],
    ],
    [
      'a RUNNING task never heartbeated, counted from its start',
      {
        status: 'RUNNING',
        remaining: 1,
        b: { status: 'RUNNING', finishedAgoS: null, heartbeatAgoS: null, startedAgoS: 45, propagated: false },
      },
      [['running_without_owner', 'b']],
    ],
  ])('reports %s', async (_name, spec, expected) => {
    const runId = await insertRun(spec);
    expect(await rulesOf(runId)).toEqual(expected);
  });

  it('checks every run when no runIds are given, and names the run of each violation', async () => {
    const bad = await insertRun({ remaining: 2 });
    const violations = await checkInvariants(db.sql);
    expect(violations.filter((v) => v.runId === bad).map((v) => v.rule)).toEqual([
      'remaining_tasks_mismatch',
    ]);
    expect(violations.every((v) => v.detail.length > 0)).toBe(true);
  });

  it('rejects a negative timeout naming the option', async () => {
    await expect(checkInvariants(db.sql, { heartbeatTimeoutMs: -1 })).rejects.toThrow(/heartbeatTimeoutMs/);
  });
});
