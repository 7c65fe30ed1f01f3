import { type Bus, createBus, type OutgoingEvent } from '@relay/bus';
import { createEnvelope, type EventData, GROUPS, streamNames } from '@relay/contracts';
import { createLogger, type Redis } from '@relay/runtime';
import {
  createTestDatabase,
  createTestRedis,
  DEFAULT_TEST_REDIS_URL,
  deleteRedisPrefix,
  type TestDatabase,
  uniquePrefix,
  waitFor,
} from '@relay/testing';
import type { WorkflowDefinition } from '@relay/workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  insertRun,
  insertWorkflow,
  isGroupIdle,
  markSucceeded,
  readEvents,
  setTaskRun,
  task,
  taskRuns,
  workflow,
} from '../test/fixtures.js';
import { loadSchedulerConfig } from './config.js';
import { createDefinitionCache } from './definitions.js';
import { handleRunStarted } from './handlers/run-started.js';
import { handleTaskFailed } from './handlers/task-failed.js';
import { handleTaskSucceeded, PLANNED_MAX_SUCCESSES } from './handlers/task-succeeded.js';
import { createSchedulerRepository } from './repository.js';
import { type RunningScheduler, startScheduler } from './service.js';

let db: TestDatabase;
let redis: Redis;
let bus: Bus;
let scheduler: RunningScheduler;
const prefix = uniquePrefix('scheduler');
const names = streamNames(prefix);
const logger = createLogger({
  service: 'scheduler-test',
  level: (process.env.TEST_LOG_LEVEL as 'silent') ?? 'silent',
});
let runSeq = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
  bus = createBus({ redis, redisUrl: DEFAULT_TEST_REDIS_URL, prefix, source: 'test', logger });
  const config = loadSchedulerConfig({
    DATABASE_URL: db.url,
    REDIS_URL: DEFAULT_TEST_REDIS_URL,
    RELAY_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    HEALTH_PORT: '0',
    SCHEDULER_CRON_RELOAD_MS: '100',
  });
  scheduler = await startScheduler(config, { redis, logger });
});

afterAll(async () => {
  await scheduler?.stop();
  await bus?.close();
  await deleteRedisPrefix(redis, prefix);
  redis.disconnect();
  await db?.drop();
});

/** Publishes every event twice (separate entries): each must be handled idempotently. */
async function publishTwice(events: OutgoingEvent[]): Promise<void> {
  await bus.publish([...events, ...events]);
  await waitIdle();
}

/** Waits until the scheduler has handled and acked everything published so far. */
async function waitIdle(): Promise<void> {
  await waitFor(
    async () =>
      (await isGroupIdle(redis, names.runs, GROUPS.scheduler)) &&
      (await isGroupIdle(redis, names.results, GROUPS.scheduler)),
    { timeoutMs: 20_000, message: 'scheduler to drain its streams' },
  );
}

/** Registers `def` (once), inserts a run of it and delivers RunStarted twice. */
async function startRun(def: WorkflowDefinition, opts: { cancelRequested?: boolean } = {}): Promise<string> {
  const known = await db.sql`SELECT 1 FROM workflows WHERE id = ${def.id}`;
  if (known.length === 0) await insertWorkflow(db.sql, def);
  runSeq += 1;
  const runId = `run-${runSeq}-${def.id}`;
  await insertRun(db.sql, runId, def.id, 1, opts);
  await publishTwice([{ type: 'RunStarted', data: { runId, workflowId: def.id, workflowVersion: 1 } }]);
  return runId;
}

async function succeed(runId: string, taskIds: string[]): Promise<void> {
  await markSucceeded(db.sql, runId, taskIds);
  await publishTwice(
    taskIds.map((taskId) => ({
      type: 'TaskSucceeded',
      data: { runId, taskId, taskRunId: `${runId}:${taskId}`, attempt: 1 },
    })),
  );
}

/** As {@link succeed}, with the events naming the pinned definition (as the worker's do). */
async function succeedPinned(
  runId: string,
  workflowId: string,
  taskIds: string[],
  version = 1,
): Promise<void> {
  await markSucceeded(db.sql, runId, taskIds);
  await publishTwice(
    taskIds.map((taskId) => ({
      type: 'TaskSucceeded',
      data: {
        runId,
        taskId,
        taskRunId: `${runId}:${taskId}`,
        attempt: 1,
        workflowId,
        workflowVersion: version,
      },
    })),
  );
}

async function readyCount(taskRunId: string): Promise<number> {
  return (await readEvents(redis, names.ready, 'TaskReady')).filter((e) => e.data.taskRunId === taskRunId)
    .length;
}

async function runRow(runId: string) {
  const [row] = await db.sql<
    { status: string; remaining_tasks: number; finished_at: Date | null; error: string | null }[]
  >`SELECT status, remaining_tasks, finished_at, error FROM runs WHERE id = ${runId}`;
  return row!;
}

async function lifecycle(runId: string) {
  return (await readEvents(redis, names.lifecycle, 'RunFinished')).filter((e) => e.data.runId === runId);
}

async function aborts(runId: string) {
  return (await readEvents(redis, names.control, 'TaskAbortRequested')).filter((e) => e.data.runId === runId);
}

/** Handler deps over the test's database and bus, to call a handler directly (as after a crash). */
function directDeps(chunkRows?: number) {
  const repo = createSchedulerRepository(db.sql, chunkRows === undefined ? {} : { chunkRows });
  return {
    repo,
    definitions: createDefinitionCache((keys) => repo.loadDefinitions(keys)),
    bus,
    logger,
    random: Math.random,
  };
}

const envelope = <K extends 'TaskSucceeded' | 'TaskFailed'>(type: K, data: EventData<K>) =>
  createEnvelope(type, data, { id: `e-${type}`, occurredAt: new Date().toISOString(), source: 'test' });

const statuses = (rows: Map<string, { status: string }>) =>
  Object.fromEntries([...rows].map(([id, r]) => [id, r.status]).sort());

describe('scheduler', () => {
  it('starts the run of an on.schedule tick and creates its task runs', async () => {
    const def = workflow('cron-wf', [task('a'), task('b', ['a'])]);
    def.on = { schedule: '* * * * *' };
    // Written a minute ago: this minute's tick is due (within the default catch-up window). One
    // transaction: the running loop must never see the version before its creation time is set.
    await db.sql.begin(async (tx) => {
      await insertWorkflow(tx, def);
      await tx`UPDATE workflow_versions SET created_at = now() - interval '61 seconds' WHERE workflow_id = 'cron-wf'`;
    });
    const run = await waitFor(
      async () => {
        const [row] = await db.sql<
          { id: string; input: { scheduledAt: string }; remaining_tasks: number | null }[]
        >`
          SELECT id, input, remaining_tasks FROM runs WHERE workflow_id = 'cron-wf'`;
        return row?.remaining_tasks === 2 ? row : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(Date.parse(run.input.scheduledAt) % 60_000).toBe(0);
    expect([...(await taskRuns(db.sql, run.id)).values()].map((t) => [t.task_id, t.status]).sort()).toEqual([
      ['a', 'READY'],
      ['b', 'PENDING'],
    ]);
  });

  it('creates a chain and propagates readiness step by step until the run succeeds', async () => {
    const runId = await startRun(
      workflow('chain', [task('a'), task('b', ['a']), task('c', ['b'], { retries: 2 })]),
    );
    let rows = await taskRuns(db.sql, runId);
    expect(statuses(rows)).toEqual({ a: 'READY', b: 'PENDING', c: 'PENDING' });
    expect(rows.get('b')).toMatchObject({ pending_needs: 1, attempt: 0, max_attempts: 1, queue: 'default' });
    expect(rows.get('c')?.max_attempts).toBe(3);
    expect((await runRow(runId)).remaining_tasks).toBe(3);
    expect(await readyCount(`${runId}:a`)).toBeGreaterThanOrEqual(1);

    await succeed(runId, ['a']);
    rows = await taskRuns(db.sql, runId);
    expect(statuses(rows)).toEqual({ a: 'SUCCESS', b: 'READY', c: 'PENDING' });
    expect(rows.get('b')?.pending_needs).toBe(0);
    expect(await readyCount(`${runId}:b`)).toBe(1);
    expect((await runRow(runId)).remaining_tasks).toBe(2);

    await succeed(runId, ['b']);
    expect(statuses(await taskRuns(db.sql, runId))).toEqual({ a: 'SUCCESS', b: 'SUCCESS', c: 'READY' });
    expect(await lifecycle(runId)).toHaveLength(0);

    await succeed(runId, ['c']);
    const run = await runRow(runId);
    expect(run).toMatchObject({ status: 'SUCCESS', remaining_tasks: 0 });
    expect(run.finished_at).toBeInstanceOf(Date);
    const finished = await lifecycle(runId);
    expect(finished.map((e) => e.data)).toEqual([{ runId, workflowId: 'chain', status: 'SUCCESS' }]);
  });

  it('makes a diamond sink READY only once both branches succeeded', async () => {
    const runId = await startRun(
      workflow('diamond', [task('a'), task('b', ['a']), task('c', ['a']), task('d', ['b', 'c'])]),
    );
    expect((await taskRuns(db.sql, runId)).get('d')?.pending_needs).toBe(2);
    await succeed(runId, ['a']);
    expect(statuses(await taskRuns(db.sql, runId))).toEqual({
      a: 'SUCCESS',
      b: 'READY',
      c: 'READY',
      d: 'PENDING',
    });
    await succeed(runId, ['b']);
    const rows = await taskRuns(db.sql, runId);
    expect(rows.get('d')).toMatchObject({ status: 'PENDING', pending_needs: 1 });
    await succeed(runId, ['c']);
    expect((await taskRuns(db.sql, runId)).get('d')).toMatchObject({ status: 'READY', pending_needs: 0 });
    expect(await readyCount(`${runId}:d`)).toBe(1);
  });

  it('keeps task_runs unchanged when RunStarted is delivered again', async () => {
    const runId = await startRun(workflow('again', [task('a'), task('b', ['a'])]));
    await succeed(runId, ['a']);
    const before = await taskRuns(db.sql, runId);
    await publishTwice([{ type: 'RunStarted', data: { runId, workflowId: 'again', workflowVersion: 1 } }]);
    expect(await taskRuns(db.sql, runId)).toEqual(before);
    expect((await runRow(runId)).remaining_tasks).toBe(1);
  });

  it('makes a sink with 2,000 needs READY exactly once', async () => {
    const sources = Array.from({ length: 2000 }, (_, i) => task(`s${i}`));
    const runId = await startRun(
      workflow('fan-in', [
        ...sources,
        task(
          'sink',
          sources.map((s) => s.id),
        ),
      ]),
    );
    const ids = sources.map((s) => s.id);
    expect((await taskRuns(db.sql, runId)).get('sink')?.pending_needs).toBe(2000);
    await succeed(runId, ids.slice(0, 1999));
    expect((await taskRuns(db.sql, runId)).get('sink')).toMatchObject({
      status: 'PENDING',
      pending_needs: 1,
    });
    await succeed(runId, ids.slice(1999));
    expect((await taskRuns(db.sql, runId)).get('sink')).toMatchObject({ status: 'READY', pending_needs: 0 });
    expect(await readyCount(`${runId}:sink`)).toBe(1);
    expect((await runRow(runId)).remaining_tasks).toBe(1);
  });

  it('retries a retryable failure with attempts left after its backoff', async () => {
    const runId = await startRun(
      workflow('retry', [
        task('a', [], { retries: 2, backoff: { initialMs: 5000, factor: 2, maxMs: 60_000 } }),
      ]),
    );
    await setTaskRun(db.sql, runId, 'a', 'FAILED', 1, 'boom');
    const data = { runId, taskId: 'a', taskRunId: `${runId}:a`, attempt: 1, error: 'boom', retryable: true };
    await publishTwice([{ type: 'TaskFailed', data }]);
    const row = (await taskRuns(db.sql, runId)).get('a')!;
    expect(row).toMatchObject({ status: 'READY', attempt: 1 });
    const [timing] = await db.sql<{ ahead: number }[]>`
      SELECT EXTRACT(EPOCH FROM (ready_at - now())) * 1000 AS ahead FROM task_runs WHERE id = ${`${runId}:a`}`;
    expect(Number(timing?.ahead)).toBeGreaterThan(1000);
    const ready = (await readEvents(redis, names.ready, 'TaskReady')).filter(
      (e) => e.data.taskRunId === `${runId}:a`,
    );
    const retryEvents = ready.filter((e) => e.data.notBefore !== undefined);
    expect(retryEvents).toHaveLength(1);
    expect(Date.parse(retryEvents[0]!.data.notBefore!)).toBe(row.ready_at!.getTime());
    expect((await runRow(runId)).status).toBe('RUNNING');
  });

  it('ignores a failure of an attempt that is not the current one', async () => {
    const runId = await startRun(workflow('stale', [task('a', [], { retries: 3 })]));
    await setTaskRun(db.sql, runId, 'a', 'RUNNING', 2);
    const data = { runId, taskId: 'a', taskRunId: `${runId}:a`, attempt: 1, error: 'late', retryable: false };
    await publishTwice([{ type: 'TaskFailed', data }]);
    expect((await taskRuns(db.sql, runId)).get('a')).toMatchObject({ status: 'RUNNING', attempt: 2 });
    expect((await runRow(runId)).status).toBe('RUNNING');
  });

  it('fails the run when a task has no attempt left: unstarted tasks cancelled, running ones told to abort', async () => {
    const runId = await startRun(
      workflow('exhaust', [task('a', [], { retries: 1 }), task('b', ['a']), task('c'), task('d'), task('e')]),
    );
    await setTaskRun(db.sql, runId, 'a', 'FAILED', 2, 'boom');
    await setTaskRun(db.sql, runId, 'c', 'RUNNING', 1);
    await setTaskRun(db.sql, runId, 'd', 'SUCCESS', 1);
    await setTaskRun(db.sql, runId, 'e', 'QUEUED', 1);
    const data = { runId, taskId: 'a', taskRunId: `${runId}:a`, attempt: 2, error: 'boom', retryable: true };
    await publishTwice([{ type: 'TaskFailed', data }]);
    const run = await runRow(runId);
    expect(run).toMatchObject({ status: 'FAILED', error: 'task a failed: boom' });
    expect(run.finished_at).toBeInstanceOf(Date);
    const rows = await taskRuns(db.sql, runId);
    expect(statuses(rows)).toEqual({
      a: 'FAILED',
      b: 'CANCELLED',
      c: 'CANCELLED',
      d: 'SUCCESS',
      e: 'CANCELLED',
    });
    expect(rows.get('b')?.finished_at).toBeInstanceOf(Date);
    expect((await aborts(runId)).map((e) => e.data)).toEqual([
      { runId, taskRunIds: [`${runId}:c`], reason: 'RUN_FAILED' },
    ]);
    expect((await lifecycle(runId)).map((e) => e.data)).toEqual([
      { runId, workflowId: 'exhaust', status: 'FAILED', error: 'task a failed: boom' },
    ]);
    // Redelivered after a crash that may have lost RunFinished: announced again, nothing else changes.
    await handleTaskFailed([{ event: envelope('TaskFailed', data), deliveries: 2 }], directDeps());
    expect((await lifecycle(runId)).map((e) => e.data.status)).toEqual(['FAILED', 'FAILED']);
    expect(await aborts(runId)).toHaveLength(1);
  });

  it('fails the run on a non-retryable failure even with attempts left', async () => {
    const runId = await startRun(workflow('fatal', [task('a', [], { retries: 5 })]));
    await setTaskRun(db.sql, runId, 'a', 'FAILED', 1, 'bad input');
    const data = {
      runId,
      taskId: 'a',
      taskRunId: `${runId}:a`,
      attempt: 1,
      error: 'bad input',
      retryable: false,
    };
    await publishTwice([{ type: 'TaskFailed', data }]);
    expect(await runRow(runId)).toMatchObject({ status: 'FAILED', error: 'task a failed: bad input' });
  });

  it('retries a lost attempt after its backoff on HeartbeatMissed FAILED, then fails the run when none is left', async () => {
    const runId = await startRun(
      workflow('lost', [
        task('a', [], { retries: 1, backoff: { initialMs: 5000, factor: 2, maxMs: 60_000 } }),
        task('b'),
      ]),
    );
    const base = { runId, taskId: 'a', taskRunId: `${runId}:a` };
    await setTaskRun(db.sql, runId, 'a', 'FAILED', 1, 'worker lost: no heartbeat for 10s (attempt 1)');
    await publishTwice([{ type: 'HeartbeatMissed', data: { ...base, attempt: 1, outcome: 'FAILED' } }]);
    expect((await taskRuns(db.sql, runId)).get('a')).toMatchObject({ status: 'READY', attempt: 1 });
    const [timing] = await db.sql<{ ahead: number }[]>`
      SELECT EXTRACT(EPOCH FROM (ready_at - now())) * 1000 AS ahead FROM task_runs WHERE id = ${`${runId}:a`}`;
    expect(Number(timing?.ahead)).toBeGreaterThan(1000);
    const retries = (await readEvents(redis, names.ready, 'TaskReady')).filter(
      (e) => e.data.taskRunId === `${runId}:a` && e.data.notBefore !== undefined,
    );
    expect(retries).toHaveLength(1);
    expect((await runRow(runId)).status).toBe('RUNNING');

    await setTaskRun(db.sql, runId, 'a', 'FAILED', 2, 'worker lost: no heartbeat for 10s (attempt 2)');
    await publishTwice([{ type: 'HeartbeatMissed', data: { ...base, attempt: 2, outcome: 'FAILED' } }]);
    expect(await runRow(runId)).toMatchObject({
      status: 'FAILED',
      error: 'task a failed: worker lost: no heartbeat for 10s (attempt 2)',
    });
    expect((await taskRuns(db.sql, runId)).get('b')?.status).toBe('CANCELLED');
    expect(await lifecycle(runId)).toHaveLength(1);
  });

  it('ignores HeartbeatMissed REQUEUED (an older reaper already made the task READY)', async () => {
    const runId = await startRun(workflow('requeued', [task('a', [], { retries: 1 })]));
    await setTaskRun(db.sql, runId, 'a', 'READY', 1);
    const data = { runId, taskId: 'a', taskRunId: `${runId}:a`, attempt: 1, outcome: 'REQUEUED' as const };
    await publishTwice([{ type: 'HeartbeatMissed', data }]);
    expect((await taskRuns(db.sql, runId)).get('a')).toMatchObject({ status: 'READY', attempt: 1 });
    expect((await runRow(runId)).status).toBe('RUNNING');
  });

  it('cancels a run once, sweeping its tasks and aborting the running ones', async () => {
    const runId = await startRun(workflow('cancel', [task('a'), task('b', ['a']), task('c')]));
    await setTaskRun(db.sql, runId, 'a', 'RUNNING', 1);
    await publishTwice([{ type: 'RunCancelRequested', data: { runId, reason: 'user' } }]);
    const run = await runRow(runId);
    expect(run.status).toBe('CANCELLED');
    expect(run.finished_at).toBeInstanceOf(Date);
    expect(statuses(await taskRuns(db.sql, runId))).toEqual({
      a: 'CANCELLED',
      b: 'CANCELLED',
      c: 'CANCELLED',
    });
    expect((await aborts(runId)).map((e) => e.data)).toEqual([
      { runId, taskRunIds: [`${runId}:a`], reason: 'CANCELLED' },
    ]);
    expect((await lifecycle(runId)).map((e) => e.data.status)).toEqual(['CANCELLED']);
  });

  it("cancels a failed attempt whose retry the run's end overtook; the failure that ends a run stays FAILED", async () => {
    const retryable = async (runId: string, taskId: string, attempt: number, error: string) => {
      await setTaskRun(db.sql, runId, taskId, 'FAILED', attempt, error);
      await db.sql`UPDATE task_runs SET retryable = true WHERE id = ${`${runId}:${taskId}`}`;
    };
    // A cancel handled before the worker's TaskFailed: the retry will never come.
    const cancelled = await startRun(workflow('limbo', [task('a', [], { retries: 3 }), task('b')]));
    await retryable(cancelled, 'a', 1, 'boom');
    await setTaskRun(db.sql, cancelled, 'b', 'FAILED', 1, 'not retryable');
    await publishTwice([{ type: 'RunCancelRequested', data: { runId: cancelled } }]);
    expect(statuses(await taskRuns(db.sql, cancelled))).toEqual({ a: 'CANCELLED', b: 'FAILED' });

    // A run failing for another task's last attempt while one waits for its retry decision.
    const failed = await startRun(
      workflow('limbo-fail', [task('a', [], { retries: 3 }), task('c', [], { retries: 1 })]),
    );
    await retryable(failed, 'a', 1, 'boom');
    await retryable(failed, 'c', 2, 'last');
    const data = {
      runId: failed,
      taskId: 'c',
      taskRunId: `${failed}:c`,
      attempt: 2,
      error: 'last',
      retryable: true,
    };
    await publishTwice([{ type: 'TaskFailed', data }]);
    expect(await runRow(failed)).toMatchObject({ status: 'FAILED', error: 'task c failed: last' });
    expect(statuses(await taskRuns(db.sql, failed))).toEqual({ a: 'CANCELLED', c: 'FAILED' });
  });

  it("words a cancelled run's error from the reason kept with it, also when the event lost it", async () => {
    const runId = await startRun(workflow('cancel-reason', [task('a')]));
    await db.sql`UPDATE runs SET cancel_requested_at = now(), cancel_reason = 'wrong input' WHERE id = ${runId}`;
    // As the reconciler re-announces a lost request: no reason in the event.
    await publishTwice([{ type: 'RunCancelRequested', data: { runId } }]);
    expect(await runRow(runId)).toMatchObject({ status: 'CANCELLED', error: 'cancelled: wrong input' });
    expect((await lifecycle(runId)).map((e) => e.data)).toEqual([
      expect.objectContaining({ status: 'CANCELLED', error: 'cancelled: wrong input' }),
    ]);
  });

  it('creates nothing for a run cancelled before it started and finishes it', async () => {
    const runId = await startRun(workflow('early-cancel', [task('a')]), { cancelRequested: true });
    expect((await taskRuns(db.sql, runId)).size).toBe(0);
    expect((await runRow(runId)).status).toBe('CANCELLED');
    expect((await lifecycle(runId)).map((e) => e.data.status)).toEqual(['CANCELLED']);
  });

  it('fails a run whose pinned workflow version is missing', async () => {
    await insertWorkflow(db.sql, workflow('unpinned', [task('a')]));
    const runId = 'run-missing-version';
    await insertRun(db.sql, runId, 'unpinned', 7);
    await publishTwice([{ type: 'RunStarted', data: { runId, workflowId: 'unpinned', workflowVersion: 7 } }]);
    expect(await runRow(runId)).toMatchObject({
      status: 'FAILED',
      error: 'workflow unpinned version 7 not found',
    });
    expect((await taskRuns(db.sql, runId)).size).toBe(0);
  });

  it('holds a task that requires approval BLOCKED until approved', async () => {
    const runId = await startRun(
      workflow('approve', [
        task('a'),
        task('gate', ['a'], { requiresApproval: true }),
        task('root-gate', [], { requiresApproval: true }),
      ]),
    );
    expect(statuses(await taskRuns(db.sql, runId))).toMatchObject({
      a: 'READY',
      gate: 'PENDING',
      'root-gate': 'BLOCKED',
    });
    await succeed(runId, ['a']);
    expect((await taskRuns(db.sql, runId)).get('gate')?.status).toBe('BLOCKED');
    expect(await readyCount(`${runId}:gate`)).toBe(0);
    await publishTwice([{ type: 'TaskApproved', data: { runId, taskId: 'gate', by: 'alice' } }]);
    expect((await taskRuns(db.sql, runId)).get('gate')).toMatchObject({
      status: 'READY',
      decided_by: 'alice',
    });
    expect(await readyCount(`${runId}:gate`)).toBe(1);
  });

  it('fails the task and the run when a blocked task is rejected', async () => {
    const runId = await startRun(
      workflow('reject', [task('gate', [], { requiresApproval: true }), task('b', ['gate'])]),
    );
    await publishTwice([
      { type: 'TaskRejected', data: { runId, taskId: 'gate', by: 'bob', reason: 'not today' } },
    ]);
    const rows = await taskRuns(db.sql, runId);
    expect(rows.get('gate')).toMatchObject({
      status: 'FAILED',
      error: 'rejected by bob: not today',
      decided_by: 'bob',
      attempt: 0,
    });
    expect(rows.get('gate')?.finished_at).toBeInstanceOf(Date);
    expect(rows.get('b')?.status).toBe('CANCELLED');
    expect(await runRow(runId)).toMatchObject({
      status: 'FAILED',
      error: 'task gate failed: rejected by bob: not today',
    });
    expect(await lifecycle(runId)).toHaveLength(1);
  });

  it('re-announces READY dependents and the finished run when an applied TaskSucceeded is redelivered', async () => {
    const runId = await startRun(workflow('redeliver', [task('a'), task('b', ['a']), task('c')]));
    await succeed(runId, ['a', 'c']);
    expect(await readyCount(`${runId}:b`)).toBe(1);
    // What a consumer taking over a crashed scheduler's pending entry sees: deliveries > 1.
    const deps = directDeps();
    const data: EventData<'TaskSucceeded'> = { runId, taskId: 'a', taskRunId: `${runId}:a`, attempt: 1 };
    const event = createEnvelope('TaskSucceeded', data, {
      id: 'e1',
      occurredAt: new Date().toISOString(),
      source: 'test',
    });
    await handleTaskSucceeded([{ event, deliveries: 1 }], deps);
    expect(await readyCount(`${runId}:b`)).toBe(1);
    await handleTaskSucceeded([{ event, deliveries: 2 }], deps);
    expect(await readyCount(`${runId}:b`)).toBe(2);
    expect((await runRow(runId)).remaining_tasks).toBe(1);
  });

  it('promotes a fan-out wider than a chunk exactly once and re-announces every chunk on redelivery', async () => {
    const wide = ['b1', 'b2', 'b3', 'b4', 'b5', 'b6', 'b7'];
    const runId = await startRun(
      workflow('chunked', [task('a'), ...wide.map((id) => task(id, ['a'])), task('sink', wide)]),
    );
    await markSucceeded(db.sql, runId, ['a']);
    const deps = directDeps(3); // 7 dependents: statements of 3, 3 and 1 rows in one transaction
    const data: EventData<'TaskSucceeded'> = { runId, taskId: 'a', taskRunId: `${runId}:a`, attempt: 1 };
    const event = createEnvelope('TaskSucceeded', data, {
      id: 'e-chunked',
      occurredAt: new Date().toISOString(),
      source: 'test',
    });
    await handleTaskSucceeded([{ event, deliveries: 1 }], deps);
    const rows = await taskRuns(db.sql, runId);
    for (const id of wide) expect(rows.get(id)).toMatchObject({ status: 'READY', pending_needs: 0 });
    expect(rows.get('sink')).toMatchObject({ status: 'PENDING', pending_needs: 7 });
    for (const id of wide) expect(await readyCount(`${runId}:${id}`)).toBe(1);
    // A duplicate applies nothing; a redelivery (crash after COMMIT, any prefix published) re-announces all.
    await handleTaskSucceeded([{ event, deliveries: 1 }], deps);
    for (const id of wide) expect(await readyCount(`${runId}:${id}`)).toBe(1);
    await handleTaskSucceeded([{ event, deliveries: 2 }], deps);
    for (const id of wide) expect(await readyCount(`${runId}:${id}`)).toBe(2);
    expect((await runRow(runId)).remaining_tasks).toBe(8);
  });

  it('announces READY roots page by page when a run has more roots than a chunk', async () => {
    const roots = ['r1', 'r2', 'r3', 'r4', 'r5'];
    const def = workflow('paged', [...roots.map((id) => task(id)), task('z', roots)]);
    await insertWorkflow(db.sql, def);
    runSeq += 1;
    const runId = `run-${runSeq}-paged`;
    await insertRun(db.sql, runId, def.id, 1);
    const event = createEnvelope(
      'RunStarted',
      { runId, workflowId: def.id, workflowVersion: 1 },
      { id: 'e-paged', occurredAt: new Date().toISOString(), source: 'test' },
    );
    await handleRunStarted([{ event, deliveries: 1 }], directDeps(2)); // pages of 2, 2, 1
    for (const id of roots) expect(await readyCount(`${runId}:${id}`)).toBe(1);
    expect(await readyCount(`${runId}:z`)).toBe(0);
    expect((await runRow(runId)).remaining_tasks).toBe(6);
  });

  describe('successes whose events name the pinned definition (one statement)', () => {
    /** Direct handler deps that count the calls of each propagation path. */
    function countingDeps(chunkRows?: number) {
      const deps = directDeps(chunkRows);
      const calls = { planned: 0, general: 0 };
      const { propagatePlanned, propagateSuccesses } = deps.repo;
      deps.repo.propagatePlanned = (...args) => {
        calls.planned += 1;
        return propagatePlanned(...args);
      };
      deps.repo.propagateSuccesses = (...args) => {
        calls.general += 1;
        return propagateSuccesses(...args);
      };
      return { deps, calls };
    }

    const pinnedEvent = (runId: string, workflowId: string, taskId: string, workflowVersion = 1) =>
      createEnvelope(
        'TaskSucceeded',
        { runId, taskId, taskRunId: `${runId}:${taskId}`, attempt: 1, workflowId, workflowVersion },
        { id: `e-${runId}-${taskId}`, occurredAt: new Date().toISOString(), source: 'test' },
      );

    it('walks a chain to SUCCESS in one statement per step, applying a duplicate nothing', async () => {
      const runId = await startRun(workflow('p-chain', [task('a'), task('b', ['a']), task('c', ['b'])]));
      const { deps, calls } = countingDeps();
      for (const [step, next] of [
        ['a', 'b'],
        ['b', 'c'],
      ] as const) {
        await markSucceeded(db.sql, runId, [step]);
        const event = pinnedEvent(runId, 'p-chain', step);
        await handleTaskSucceeded([{ event, deliveries: 1 }], deps);
        await handleTaskSucceeded([{ event, deliveries: 1 }], deps);
        expect((await taskRuns(db.sql, runId)).get(next)).toMatchObject({
          status: 'READY',
          pending_needs: 0,
        });
        expect(await readyCount(`${runId}:${next}`)).toBe(1);
      }
      // Each duplicate was left unmarked by the statement and matched nothing on the general path.
      expect(calls).toEqual({ planned: 4, general: 2 });
      await markSucceeded(db.sql, runId, ['c']);
      await handleTaskSucceeded([{ event: pinnedEvent(runId, 'p-chain', 'c'), deliveries: 1 }], deps);
      expect(await runRow(runId)).toMatchObject({ status: 'SUCCESS', remaining_tasks: 0 });
      expect((await lifecycle(runId)).map((e) => e.data)).toEqual([
        { runId, workflowId: 'p-chain', status: 'SUCCESS' },
      ]);
      const rows = await taskRuns(db.sql, runId);
      for (const id of ['a', 'b', 'c']) expect(rows.get(id)?.propagated_at).toBeInstanceOf(Date);
    });

    it('counts a fan-in exactly once per need, in one batch and across batches', async () => {
      const ids = Array.from({ length: 12 }, (_, i) => `s${i}`);
      const runId = await startRun(
        workflow('p-fan-in', [
          ...ids.map((id) => task(id)),
          task('sink', ids),
          task('gate', ['s0', 's1'], { requiresApproval: true }),
        ]),
      );
      const { deps, calls } = countingDeps();
      await markSucceeded(db.sql, runId, ids);
      const deliver = (taskIds: string[]) =>
        handleTaskSucceeded(
          taskIds.map((id) => ({ event: pinnedEvent(runId, 'p-fan-in', id), deliveries: 1 })),
          deps,
        );
      await deliver(ids.slice(0, 11));
      await deliver(ids.slice(0, 3)); // duplicates: nothing applied twice
      let rows = await taskRuns(db.sql, runId);
      expect(rows.get('sink')).toMatchObject({ status: 'PENDING', pending_needs: 1 });
      expect(rows.get('gate')).toMatchObject({ status: 'BLOCKED', pending_needs: 0 });
      expect(await readyCount(`${runId}:gate`)).toBe(0);
      await deliver(ids.slice(11));
      rows = await taskRuns(db.sql, runId);
      expect(rows.get('sink')).toMatchObject({ status: 'READY', pending_needs: 0 });
      expect(await readyCount(`${runId}:sink`)).toBe(1);
      expect((await runRow(runId)).remaining_tasks).toBe(2);
      expect(calls).toEqual({ planned: 3, general: 1 });
    });

    it('leaves big batches to the general path, through the consumer', async () => {
      const ids = Array.from({ length: PLANNED_MAX_SUCCESSES + 1 }, (_, i) => `s${i}`);
      const runId = await startRun(workflow('p-big', [...ids.map((id) => task(id)), task('sink', ids)]));
      const { deps, calls } = countingDeps();
      await markSucceeded(db.sql, runId, ids);
      await handleTaskSucceeded(
        ids.map((id) => ({ event: pinnedEvent(runId, 'p-big', id), deliveries: 1 })),
        deps,
      );
      expect(calls).toEqual({ planned: 0, general: 1 });
      expect((await taskRuns(db.sql, runId)).get('sink')).toMatchObject({
        status: 'READY',
        pending_needs: 0,
      });
      // The same through the consumer, every event twice.
      const other = await startRun(workflow('p-big', [...ids.map((id) => task(id)), task('sink', ids)]));
      await succeedPinned(other, 'p-big', ids);
      expect((await taskRuns(db.sql, other)).get('sink')).toMatchObject({
        status: 'READY',
        pending_needs: 0,
      });
      expect(await readyCount(`${other}:sink`)).toBe(1);
    });

    it('leaves a success whose run pinned another version to the general path, planned from the pinned one', async () => {
      const v1 = workflow('p-versions', [task('a'), task('b', ['a'])]);
      const runId = await startRun(v1);
      // Version 2 exists and gives `a` another dependent: an event naming it must not be planned from it.
      await db.sql`
        INSERT INTO workflow_versions (workflow_id, version, definition)
        VALUES ('p-versions', 2, ${db.sql.json(JSON.parse(JSON.stringify(workflow('p-versions', [task('a'), task('x', ['a'])]))))})`;
      const { deps, calls } = countingDeps();
      await markSucceeded(db.sql, runId, ['a']);
      await handleTaskSucceeded([{ event: pinnedEvent(runId, 'p-versions', 'a', 2), deliveries: 1 }], deps);
      expect(calls).toEqual({ planned: 1, general: 1 });
      const rows = await taskRuns(db.sql, runId);
      expect(rows.get('b')).toMatchObject({ status: 'READY', pending_needs: 0 });
      expect(rows.has('x')).toBe(false);
      expect((await runRow(runId)).remaining_tasks).toBe(1);
    });

    it('takes the general path when the plan is larger than a chunk', async () => {
      const wide = ['b1', 'b2', 'b3', 'b4'];
      const runId = await startRun(workflow('p-wide', [task('a'), ...wide.map((id) => task(id, ['a']))]));
      const { deps, calls } = countingDeps(3);
      await markSucceeded(db.sql, runId, ['a']);
      await handleTaskSucceeded([{ event: pinnedEvent(runId, 'p-wide', 'a'), deliveries: 1 }], deps);
      expect(calls).toEqual({ planned: 0, general: 1 });
      const rows = await taskRuns(db.sql, runId);
      for (const id of wide) expect(rows.get(id)).toMatchObject({ status: 'READY', pending_needs: 0 });
    });
  });

  it('serves readiness and per-type metrics', async () => {
    const base = `http://127.0.0.1:${scheduler.healthPort}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toMatch(/relay_scheduler_events_handled_total\{[^}]*type="RunStarted"[^}]*\} \d+/);
    expect(metrics).toContain('relay_scheduler_handler_duration_seconds_bucket');
    expect(metrics).toContain('relay_scheduler_batch_size_bucket');
  });
});
