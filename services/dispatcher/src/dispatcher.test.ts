import { type Bus, createBus, type OutgoingEvent } from '@relay/bus';
import { createEnvelope, GROUPS, streamNames } from '@relay/contracts';
import { createLogger, createMetricsRegistry, type Redis } from '@relay/runtime';
import {
  createTestDatabase,
  createTestRedis,
  DEFAULT_TEST_REDIS_URL,
  deleteRedisPrefix,
  type TestDatabase,
  uniquePrefix,
  waitFor,
} from '@relay/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { insertReadyRun, isGroupIdle, readEvents, taskRun } from '../test/fixtures.js';
import { loadDispatcherConfig } from './config.js';
import { dispatchTaskRuns } from './dispatch.js';
import { handleTaskReady } from './handlers/task-ready.js';
import { createDispatcherMetrics } from './metrics.js';
import { createDispatcherRepository } from './repository.js';
import { type RunningDispatcher, startDispatcher } from './service.js';

const logger = createLogger({
  service: 'dispatcher-test',
  level: (process.env.TEST_LOG_LEVEL as 'silent') ?? 'silent',
});
let db: TestDatabase;
let redis: Redis;
const prefixes: string[] = [];
const running: { stop(): Promise<void> }[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
});

afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

afterAll(async () => {
  for (const p of prefixes) await deleteRedisPrefix(redis, p);
  redis.disconnect();
  await db?.drop();
});

/** A fresh prefix with `instances` dispatchers consuming it and a bus to publish TaskReady on it. */
async function setup(label: string, instances = 1) {
  const prefix = uniquePrefix(label);
  prefixes.push(prefix);
  const config = loadDispatcherConfig({
    DATABASE_URL: db.url,
    REDIS_URL: DEFAULT_TEST_REDIS_URL,
    RELAY_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    HEALTH_PORT: '0',
    DISPATCHER_BATCH_SIZE: '100',
  });
  const dispatchers: RunningDispatcher[] = [];
  for (let i = 0; i < instances; i += 1) {
    const d = await startDispatcher(config, { logger, consumer: `${label}-${i}` });
    dispatchers.push(d);
    running.push(d);
  }
  const bus: Bus = createBus({ redis, redisUrl: DEFAULT_TEST_REDIS_URL, prefix, source: 'test', logger });
  running.push({ stop: () => bus.close() });
  const names = streamNames(prefix);
  return {
    prefix,
    names,
    dispatchers,
    publish: (events: OutgoingEvent[]) => bus.publish(events),
    idle: () =>
      waitFor(() => isGroupIdle(redis, names.ready, GROUPS.dispatcher), {
        timeoutMs: 20_000,
        message: 'dispatcher to drain P:ready',
      }),
  };
}

const ready = (taskRunId: string, extra: { queue?: string; notBefore?: string } = {}): OutgoingEvent => {
  const [runId, taskId] = taskRunId.split(':') as [string, string];
  return { type: 'TaskReady', data: { runId, taskId, taskRunId, queue: extra.queue ?? 'default', ...extra } };
};

describe('dispatcher', () => {
  it('queues a READY task as attempt 1 and publishes TaskQueued on its queue work stream', async () => {
    const { names, publish, idle } = await setup('dispatch-one');
    const [id] = await insertReadyRun(db.sql, 'd-one', { queue: 'payments' });
    await publish([ready(id!, { queue: 'payments' })]);
    await idle();
    const row = await taskRun(db.sql, id!);
    expect(row).toMatchObject({ status: 'QUEUED', attempt: 1 });
    expect(row?.queued_at).toBeInstanceOf(Date);
    const queued = await readEvents(redis, names.work('payments'), 'TaskQueued');
    expect(queued.map((e) => e.data)).toEqual([
      {
        runId: 'd-one',
        taskId: 't0',
        taskRunId: id,
        attempt: 1,
        queue: 'payments',
        workflowId: 'wf',
        workflowVersion: 1,
      },
    ]);
    expect(await readEvents(redis, names.work('default'), 'TaskQueued')).toHaveLength(0);
  });

  it('publishes exactly one TaskQueued for a duplicated TaskReady', async () => {
    const { names, publish, idle } = await setup('dispatch-dup');
    const [id] = await insertReadyRun(db.sql, 'd-dup');
    await publish([ready(id!), ready(id!)]);
    await publish([ready(id!)]);
    await idle();
    expect(await taskRun(db.sql, id!)).toMatchObject({ status: 'QUEUED', attempt: 1 });
    expect(await readEvents(redis, names.work('default'), 'TaskQueued')).toHaveLength(1);
  });

  it('drops TaskReady of a task that is not READY or whose run is not RUNNING', async () => {
    const { names, publish, idle } = await setup('dispatch-drop');
    const [a, b] = await insertReadyRun(db.sql, 'd-drop', { count: 2 });
    await db.sql`UPDATE task_runs SET status = 'CANCELLED' WHERE id = ${a!}`;
    const [c] = await insertReadyRun(db.sql, 'd-drop-cancelled');
    await db.sql`UPDATE runs SET status = 'CANCELLED' WHERE id = 'd-drop-cancelled'`;
    await publish([ready(a!), ready(b!), ready(c!)]);
    await idle();
    const queued = await readEvents(redis, names.work('default'), 'TaskQueued');
    expect(queued.map((e) => e.data.taskRunId)).toEqual([b]);
    expect((await taskRun(db.sql, c!))?.status).toBe('READY');
  });

  it('dispatches a TaskReady with notBefore in 300 ms after that time, not before', async () => {
    const { names, publish } = await setup('dispatch-later');
    const [id] = await insertReadyRun(db.sql, 'd-later', { readyInMs: 300 });
    const row = await taskRun(db.sql, id!);
    await publish([ready(id!, { notBefore: row!.ready_at!.toISOString() })]);
    const queuedRow = await waitFor(
      async () => {
        const r = await taskRun(db.sql, id!);
        return r?.status === 'QUEUED' ? r : null;
      },
      { timeoutMs: 5000, message: 'delayed task to be queued' },
    );
    expect(queuedRow.queued_at!.getTime()).toBeGreaterThanOrEqual(row!.ready_at!.getTime());
    expect(queuedRow.attempt).toBe(1);
    expect(await readEvents(redis, names.work('default'), 'TaskQueued')).toHaveLength(1);
    expect(await redis.zcard(names.delayed)).toBe(0);
  });

  it('delays a TaskReady without notBefore whose ready_at is still ahead (clock skew)', async () => {
    const { publish } = await setup('dispatch-skew');
    const [id] = await insertReadyRun(db.sql, 'd-skew', { readyInMs: 400 });
    const readyAt = (await taskRun(db.sql, id!))!.ready_at!;
    await publish([ready(id!)]);
    const queuedRow = await waitFor(
      async () => {
        const r = await taskRun(db.sql, id!);
        return r?.status === 'QUEUED' ? r : null;
      },
      { timeoutMs: 5000, message: 'skewed task to be queued' },
    );
    expect(queuedRow.queued_at!.getTime()).toBeGreaterThanOrEqual(readyAt.getTime());
  });

  it('delays, never drops, a task that comes due between the queue statement and the due check', async () => {
    // The delayed set's scores are whole milliseconds and ready_at has microseconds, so an entry is
    // often popped <1 ms early: the UPDATE finds it not yet due, and by the next statement it is due.
    const prefix = uniquePrefix('dispatch-due-between');
    prefixes.push(prefix);
    const bus = createBus({ redis, redisUrl: DEFAULT_TEST_REDIS_URL, prefix, source: 'test', logger });
    running.push({ stop: () => bus.close() });
    const [id] = await insertReadyRun(db.sql, 'd-due-between', { readyInMs: 40 });
    const real = createDispatcherRepository(db.sql);
    let missed = 0;
    const repo: typeof real = {
      ...real,
      async queueTaskRuns(ids) {
        const rows = await real.queueTaskRuns(ids);
        if (rows.length === 0) missed += 1;
        await new Promise((resolve) => setTimeout(resolve, 80));
        return rows;
      },
    };
    const notified: number[] = [];
    const queued = await dispatchTaskRuns([id!], {
      repo,
      bus,
      logger,
      metrics: createDispatcherMetrics(createMetricsRegistry('dispatcher-test'), async () => 0),
      notifyDelayed: (dueAtMs) => notified.push(dueAtMs),
      now: Date.now,
    });
    expect(queued).toBe(0);
    expect(missed).toBe(1);
    expect(await redis.zscore(streamNames(prefix).delayed, id!)).not.toBeNull();
    expect(notified).toHaveLength(1);
    expect(notified[0]).toBeLessThanOrEqual(Date.now());
    expect((await taskRun(db.sql, id!))?.status).toBe('READY');
  });

  it('dispatches each of 500 READY tasks exactly once across two dispatchers', async () => {
    const { names, publish, idle } = await setup('dispatch-race', 2);
    const ids = await insertReadyRun(db.sql, 'd-race', { count: 500 });
    // Every TaskReady twice, so both dispatchers race on the same rows.
    await publish([...ids.map((id) => ready(id)), ...ids.map((id) => ready(id))]);
    await idle();
    const queued = await readEvents(redis, names.work('default'), 'TaskQueued');
    expect(queued).toHaveLength(500);
    expect(new Set(queued.map((e) => e.data.taskRunId)).size).toBe(500);
    const rows = await db.sql<{ status: string; attempt: number; n: number }[]>`
      SELECT status, attempt, count(*)::int AS n FROM task_runs WHERE run_id = 'd-race' GROUP BY status, attempt`;
    expect(rows).toEqual([{ status: 'QUEUED', attempt: 1, n: 500 }]);
  });

  it('publishes TaskQueued again for a redelivered TaskReady whose task is already QUEUED', async () => {
    const { prefix, names, publish, idle, dispatchers } = await setup('dispatch-redeliver');
    const [id] = await insertReadyRun(db.sql, 'd-redeliver');
    await publish([ready(id!)]);
    await idle();
    const bus = createBus({ redis, redisUrl: DEFAULT_TEST_REDIS_URL, prefix, source: 'test', logger });
    const deps = {
      repo: createDispatcherRepository(db.sql),
      bus,
      logger,
      metrics: createDispatcherMetrics(createMetricsRegistry('dispatcher-test'), async () => 0),
      notifyDelayed: () => {},
      now: Date.now,
    };
    const data = { runId: 'd-redeliver', taskId: 't0', taskRunId: id!, queue: 'default' };
    const event = createEnvelope('TaskReady', data, {
      id: 'e1',
      occurredAt: new Date().toISOString(),
      source: 'test',
    });
    await handleTaskReady([{ event, deliveries: 1 }], deps);
    expect(await readEvents(redis, names.work('default'), 'TaskQueued')).toHaveLength(1);
    await handleTaskReady([{ event, deliveries: 3 }], deps);
    const queued = await readEvents(redis, names.work('default'), 'TaskQueued');
    expect(queued.map((e) => e.data.attempt)).toEqual([1, 1]);
    expect(await taskRun(db.sql, id!)).toMatchObject({ status: 'QUEUED', attempt: 1 });
    const metrics = await (await fetch(`http://127.0.0.1:${dispatchers[0]!.healthPort}/metrics`)).text();
    expect(metrics).toMatch(/relay_dispatcher_tasks_dispatched_total\{[^}]*\} 1/);
    expect(metrics).toContain('relay_dispatcher_delayed_tasks');
    await bus.close();
  });
});
