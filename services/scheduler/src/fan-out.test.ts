import { type Bus, createBus, type OutgoingEvent } from '@relay/bus';
import { GROUPS, streamNames } from '@relay/contracts';
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
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  insertRun,
  insertWorkflow,
  isGroupIdle,
  markSucceeded,
  task,
  taskRuns,
  workflow,
} from '../test/fixtures.js';
import { loadSchedulerConfig } from './config.js';
import { type RunningScheduler, startScheduler } from './service.js';

// 100,000 runs in about 12 s on a 2-core machine (FANOUT=100000); the default keeps the suite quick.
const N = Number(process.env.FANOUT ?? 20_000);
let db: TestDatabase;
let redis: Redis;
let bus: Bus;
let scheduler: RunningScheduler;
const prefix = uniquePrefix('scheduler-fan-out');
const names = streamNames(prefix);
const logger = createLogger({ service: 'fan-out-test', level: 'silent' });

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
  bus = createBus({
    redis,
    redisUrl: DEFAULT_TEST_REDIS_URL,
    prefix,
    source: 'test',
    logger,
    maxLen: 1_000_000,
  });
  const config = loadSchedulerConfig({
    DATABASE_URL: db.url,
    REDIS_URL: DEFAULT_TEST_REDIS_URL,
    RELAY_PREFIX: prefix,
    LOG_LEVEL: 'silent',
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
const idle = () =>
  waitFor(
    async () =>
      (await isGroupIdle(redis, names.runs, GROUPS.scheduler)) &&
      (await isGroupIdle(redis, names.results, GROUPS.scheduler)),
    { timeoutMs: 120_000 },
  );

describe('scheduler at scale', () => {
  it(`fans out to ${N} tasks and back with set-based statements`, async () => {
    const leaves = Array.from({ length: N }, (_, i) => task(`l${i}`, ['root']));
    await insertWorkflow(db.sql, workflow('fanout', [task('root'), ...leaves]));
    await insertRun(db.sql, 'r', 'fanout', 1);
    await bus.publish({ type: 'RunStarted', data: { runId: 'r', workflowId: 'fanout', workflowVersion: 1 } });
    await idle();
    expect((await taskRuns(db.sql, 'r')).size).toBe(N + 1);

    await markSucceeded(db.sql, 'r', ['root']);
    await bus.publish({
      type: 'TaskSucceeded',
      data: { runId: 'r', taskId: 'root', taskRunId: 'r:root', attempt: 1 },
    });
    await idle();
    const counts = await db.sql<{ status: string; n: number }[]>`
      SELECT status, count(*)::int AS n FROM task_runs WHERE run_id = 'r' GROUP BY status ORDER BY status`;
    expect(counts).toEqual([
      { status: 'READY', n: N },
      { status: 'SUCCESS', n: 1 },
    ]);
    expect(await redis.xlen(names.ready)).toBe(N + 1);

    await db.sql`UPDATE task_runs SET status = 'SUCCESS', attempt = 1 WHERE run_id = 'r' AND task_id <> 'root'`;
    const events: OutgoingEvent[] = leaves.map((l) => ({
      type: 'TaskSucceeded',
      data: { runId: 'r', taskId: l.id, taskRunId: `r:${l.id}`, attempt: 1 },
    }));
    for (let i = 0; i < events.length; i += 10_000) await bus.publish(events.slice(i, i + 10_000));
    await idle();
    const [run] = await db.sql<{ status: string; remaining_tasks: number }[]>`
      SELECT status, remaining_tasks FROM runs WHERE id = 'r'`;
    expect(run).toEqual({ status: 'SUCCESS', remaining_tasks: 0 });
  }, 120_000);
});
