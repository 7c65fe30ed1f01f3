import { GROUPS, streamNames } from '@relay/contracts';
import { createLogger, createMetricsRegistry, type Redis } from '@relay/runtime';
import {
  createEmptyTestDatabase,
  createTestDatabase,
  createTestRedis,
  deleteRedisPrefix,
  type TestDatabase,
  uniquePrefix,
} from '@relay/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerBacklogMetrics } from './backlog-metrics.js';

let db: TestDatabase;
let redis: Redis;
const prefix = uniquePrefix('backlog');
const logger = createLogger({ service: 'reaper-test', level: 'silent' });

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
});

afterAll(async () => {
  await deleteRedisPrefix(redis, prefix);
  redis.disconnect();
  await db?.drop();
});

/** The value of one series of a Prometheus text exposition, or undefined when absent. */
function series(text: string, name: string): number | undefined {
  const line = text
    .split('\n')
    .map((l) => l.replace(/\{service="reaper"\}|,service="reaper"|service="reaper",/, ''))
    .find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

describe('backlog metrics', () => {
  it('count RUNNING runs and active task runs by queue, age the waiting ones, and read the input streams', async () => {
    await db.sql`INSERT INTO workflows (id, name, definition) VALUES ('wf', 'wf', '{}')`;
    await db.sql`
      INSERT INTO runs (id, workflow_id, status, workflow_version)
      VALUES ('r1', 'wf', 'RUNNING', 1), ('r2', 'wf', 'RUNNING', 1), ('r3', 'wf', 'SUCCESS', 1)`;
    await db.sql`
      INSERT INTO task_runs (id, run_id, task_id, workflow_id, status, queue, ready_at, queued_at, started_at)
      VALUES ('r1:a', 'r1', 'a', 'wf', 'QUEUED', 'gpu', now() - interval '10 min', now() - interval '300 s', NULL),
             ('r1:b', 'r1', 'b', 'wf', 'QUEUED', 'gpu', now() - interval '1 min', now() - interval '20 s', NULL),
             ('r2:a', 'r2', 'a', 'wf', 'READY', 'default', now() - interval '7 s', NULL, NULL),
             ('r2:b', 'r2', 'b', 'wf', 'RUNNING', 'default', now(), now(), now() - interval '1 h'),
             ('r3:a', 'r3', 'a', 'wf', 'SUCCESS', 'default', now(), now(), now())`;

    const names = streamNames(prefix);
    await redis.xgroup('CREATE', names.results, GROUPS.scheduler, '$', 'MKSTREAM');
    for (let i = 0; i < 5; i++) await redis.xadd(names.results, '*', 'event', '{}');
    await redis.xreadgroup('GROUP', GROUPS.scheduler, 'c1', 'COUNT', 2, 'STREAMS', names.results, '>');

    const registry = createMetricsRegistry('reaper');
    registerBacklogMetrics(registry, { sql: db.sql, redis, prefix, logger });
    const text = await registry.metrics();

    expect(series(text, 'relay_runs_running')).toBe(2);
    expect(series(text, 'relay_task_runs{queue="gpu",status="QUEUED"}')).toBe(2);
    expect(series(text, 'relay_task_runs{queue="default",status="READY"}')).toBe(1);
    expect(series(text, 'relay_task_runs{queue="default",status="RUNNING"}')).toBe(1);
    expect(text).not.toContain('status="SUCCESS"');
    const queuedAge = series(text, 'relay_task_runs_oldest_waiting_seconds{queue="gpu",status="QUEUED"}');
    expect(queuedAge).toBeGreaterThanOrEqual(300);
    expect(queuedAge).toBeLessThan(330);
    expect(
      series(text, 'relay_task_runs_oldest_waiting_seconds{queue="default",status="READY"}'),
    ).toBeGreaterThanOrEqual(7);
    expect(text).not.toContain('relay_task_runs_oldest_waiting_seconds{queue="default",status="RUNNING"}');

    expect(series(text, 'relay_stream_undelivered_entries{stream="results"}')).toBe(3);
    expect(series(text, 'relay_stream_pending_entries{stream="results"}')).toBe(2);
    expect(series(text, 'relay_stream_oldest_pending_seconds{stream="results"}')).toBeLessThan(30);
    // A stream nobody created yet: nothing pending, and no undelivered figure (there is no group).
    expect(series(text, 'relay_stream_pending_entries{stream="runs"}')).toBe(0);
    expect(series(text, 'relay_stream_undelivered_entries{stream="runs"}')).toBeUndefined();
  });

  it('a failed reading leaves the gauges empty and /metrics still answers', async () => {
    const empty = await createEmptyTestDatabase();
    try {
      const registry = createMetricsRegistry('reaper');
      registerBacklogMetrics(registry, { sql: empty.sql, redis, prefix, logger });
      const text = await registry.metrics();
      expect(text).toContain('# TYPE relay_runs_running gauge');
      expect(series(text, 'relay_runs_running')).toBeNaN();
      expect(text).not.toContain('relay_task_runs{');
      expect(text).not.toContain('relay_stream_pending_entries{');
      expect(text).toContain('process_cpu_seconds_total');
    } finally {
      await empty.drop();
    }
  });
});
