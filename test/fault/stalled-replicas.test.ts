import { waitFor } from '@relay/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findViolations } from './check.js';
import { type FaultFleet, startFaultFleet } from './fleet.js';

// Two schedulers, two dispatchers and two reapers race over 200 stalled attempts (RUNNING rows whose
// heartbeat is an hour old, as if their workers had died): each attempt is re-queued exactly once.
const RUNS = 4;
const TASKS_PER_RUN = 50;
let fleet: FaultFleet;

beforeAll(async () => {
  fleet = await startFaultFleet({ label: 'stalled', replicas: 2, workers: 0 });
  const tasks = Array.from({ length: TASKS_PER_RUN }, (_, i) => `  t${i}: { type: noop, retries: 2 }`);
  await fleet.applyYaml(`id: wide\ntasks:\n${tasks.join('\n')}\n`);
});

afterAll(async () => {
  await fleet?.stop();
});

interface Row {
  id: string;
  status: string;
  attempt: number;
}

it('re-queues each of 200 stalled attempts exactly once with replicated services', async () => {
  const ids: string[] = [];
  for (let i = 0; i < RUNS; i += 1) ids.push(await fleet.startRun('wide'));
  const total = RUNS * TASKS_PER_RUN;
  const queuedCount = async (attempt: number) => {
    const [row] = await fleet.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM task_runs
      WHERE run_id = ANY(${ids}::text[]) AND status = 'QUEUED' AND attempt = ${attempt}`;
    return row?.n ?? 0;
  };
  await waitFor(async () => (await queuedCount(1)) === total, {
    timeoutMs: 30_000,
    message: 'not all queued',
  });

  // Their workers "died" an hour ago, just after claiming.
  await fleet.sql`
    UPDATE task_runs SET status = 'RUNNING', worker_id = 'ghost-worker',
      started_at = now() - interval '1 hour', heartbeat_at = now() - interval '1 hour'
    WHERE run_id = ANY(${ids}::text[])`;
  await waitFor(async () => (await queuedCount(2)) === total, {
    timeoutMs: 30_000,
    message: `stalled attempts were not re-queued\n${fleet.logs(10)}`,
  });
  // Two more reaper scans and delayed polls: nothing moves again.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const rows = await fleet.sql<Row[]>`
    SELECT id, status, attempt FROM task_runs WHERE run_id = ANY(${ids}::text[]) ORDER BY id`;
  expect(rows.filter((r) => r.status !== 'QUEUED' || r.attempt !== 2)).toEqual([]);

  const stream = `${fleet.prefix}:work:default`;
  const perAttempt = new Map<string, number>();
  for (const [, fields] of await fleet.redis.xrange(stream, '-', '+')) {
    const event = JSON.parse(fields[1] ?? '{}') as {
      type: string;
      data: { taskRunId: string; attempt: number };
    };
    if (event.type !== 'TaskQueued') continue;
    const key = `${event.data.taskRunId}#${event.data.attempt}`;
    perAttempt.set(key, (perAttempt.get(key) ?? 0) + 1);
  }
  const attempt2 = [...perAttempt].filter(([key]) => key.endsWith('#2'));
  expect(attempt2.length).toBe(total);
  expect(attempt2.filter(([, n]) => n !== 1)).toEqual([]);

  fleet.spawn('worker');
  fleet.spawn('worker');
  const statuses = await fleet.waitForRuns(ids, 60_000);
  expect([...statuses.values()]).toEqual(ids.map(() => 'SUCCESS'));
  const [attempts] = await fleet.sql<{ min: number; max: number }[]>`
    SELECT min(attempt)::int AS min, max(attempt)::int AS max FROM task_runs WHERE run_id = ANY(${ids}::text[])`;
  expect(attempts).toEqual({ min: 2, max: 2 });
  expect(await findViolations(fleet.sql, ids)).toEqual([]);
});
