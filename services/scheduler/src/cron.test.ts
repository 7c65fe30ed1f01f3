import { type Bus, createBus } from '@relay/bus';
import { streamNames } from '@relay/contracts';
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
import { insertWorkflow, readEvents, task, workflow } from '../test/fixtures.js';
import { type CronLoop, startCronLoop } from './cron.js';
import { createSchedulerRepository } from './repository.js';

let db: TestDatabase;
let redis: Redis;
let bus: Bus;
const prefix = uniquePrefix('scheduler-cron');
const names = streamNames(prefix);
const logger = createLogger({ service: 'cron-test', level: 'silent' });
const loops: CronLoop[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
  bus = createBus({ redis, redisUrl: DEFAULT_TEST_REDIS_URL, prefix, source: 'scheduler', logger });
});
afterAll(async () => {
  await Promise.all(loops.splice(0).map((l) => l.stop()));
  await bus?.close();
  await deleteRedisPrefix(redis, prefix);
  await redis?.quit();
  await db?.drop();
});

/** A workflow scheduled with `schedule`, its current version written at `since`. */
async function scheduled(
  id: string,
  schedule: string | undefined,
  since: string,
  version = 1,
): Promise<void> {
  const def = workflow(id, [task('a')]);
  if (schedule !== undefined) def.on = { schedule };
  // One transaction: a loop must never see the version before its creation time is set.
  await db.sql.begin(async (tx) => {
    await insertWorkflow(tx, def, version);
    await tx`UPDATE workflow_versions SET created_at = ${since} WHERE workflow_id = ${id} AND version = ${version}`;
  });
}

/** A loop on a hand-moved clock; it re-reads the clock every 20 ms (its reload interval). */
function loop(clock: { t: number }, catchUpMs = 10 * 60_000): CronLoop {
  const l = startCronLoop({
    repo: createSchedulerRepository(db.sql),
    bus,
    logger,
    catchUpMs,
    reloadMs: 20,
    now: () => clock.t,
  });
  loops.push(l);
  return l;
}

async function runsOf(workflowId: string) {
  return db.sql<{ id: string; input: { scheduledAt: string }; workflow_version: number; status: string }[]>`
    SELECT id, input, workflow_version, status FROM runs WHERE workflow_id = ${workflowId}
    ORDER BY input ->> 'scheduledAt'`;
}

const ticksOf = async (workflowId: string) => (await runsOf(workflowId)).map((r) => r.input.scheduledAt);

describe('on.schedule', () => {
  it('fires each tick once however many schedulers run, catching up the missed ones in the window', async () => {
    await scheduled('every-5', '*/5 * * * *', '2026-11-28T09:00:00Z');
    const clock = { t: Date.parse('2026-11-28T10:00:30Z') };
    loop(clock);
    loop(clock);
    // Missed ticks within the last 10 minutes: 09:55 and 10:00 (09:50 is before 09:50:30).
    await waitFor(async () => ((await runsOf('every-5')).length === 2 ? true : undefined), {
      timeoutMs: 5000,
    });
    clock.t = Date.parse('2026-11-28T10:05:00Z');
    await waitFor(async () => ((await runsOf('every-5')).length === 3 ? true : undefined), {
      timeoutMs: 5000,
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(await ticksOf('every-5')).toEqual([
      '2026-11-28T09:55:00.000Z',
      '2026-11-28T10:00:00.000Z',
      '2026-11-28T10:05:00.000Z',
    ]);
    const runs = await runsOf('every-5');
    expect(runs.every((r) => r.status === 'RUNNING' && r.workflow_version === 1)).toBe(true);
    // One RunStarted per run, from whichever scheduler claimed the tick.
    const started = (await readEvents(redis, names.runs, 'RunStarted')).filter(
      (e) => e.data.workflowId === 'every-5',
    );
    expect(started.map((e) => e.data.runId).sort()).toEqual(runs.map((r) => r.id).sort());
    const [claims] = await db.sql<{ n: number }[]>`
      SELECT count(*)::int AS n FROM schedule_ticks WHERE workflow_id = 'every-5'`;
    expect(claims?.n).toBe(3);
  });

  it('fires no tick older than the catch-up window', async () => {
    await scheduled('late', '0 * * * *', '2026-11-28T08:00:00Z');
    const clock = { t: Date.parse('2026-11-28T10:00:10Z') };
    loop(clock, 0);
    await new Promise((r) => setTimeout(r, 200));
    expect(await ticksOf('late')).toEqual([]);
    clock.t = Date.parse('2026-11-28T11:00:00Z');
    await waitFor(async () => ((await runsOf('late')).length === 1 ? true : undefined), { timeoutMs: 5000 });
    expect(await ticksOf('late')).toEqual(['2026-11-28T11:00:00.000Z']);
  });

  it('fires no tick older than the catch-up window after a stall of a running scheduler', async () => {
    await scheduled('stalled', '*/5 * * * *', '2026-11-28T09:00:00Z');
    const clock = { t: Date.parse('2026-11-28T10:00:30Z') };
    loop(clock);
    await waitFor(async () => ((await runsOf('stalled')).length === 2 ? true : undefined), {
      timeoutMs: 5000,
    });
    // An hour in which it could not fire (Postgres away, the process paused): what a restarted scheduler
    // would fire, the last 10 minutes' ticks, not twelve runs in a burst.
    clock.t = Date.parse('2026-11-28T11:00:30Z');
    await waitFor(async () => ((await runsOf('stalled')).length >= 4 ? true : undefined), {
      timeoutMs: 5000,
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(await ticksOf('stalled')).toEqual([
      '2026-11-28T09:55:00.000Z',
      '2026-11-28T10:00:00.000Z',
      '2026-11-28T10:55:00.000Z',
      '2026-11-28T11:00:00.000Z',
    ]);
  });

  it('finds a tick more than five years away once it comes within reach, without a restart', async () => {
    // 29 February on a Sunday: 2032, past nextCronTick's five-year horizon from 2026.
    await scheduled('leap-sunday', '0 0 29 2 */7', '2026-01-01T00:00:00Z');
    const clock = { t: Date.parse('2026-12-03T12:00:00Z') };
    loop(clock);
    await new Promise((r) => setTimeout(r, 100));
    clock.t = Date.parse('2032-02-28T23:59:00Z');
    await new Promise((r) => setTimeout(r, 100));
    clock.t = Date.parse('2032-02-29T00:00:05Z');
    await waitFor(async () => ((await runsOf('leap-sunday')).length === 1 ? true : undefined), {
      timeoutMs: 5000,
    });
    expect(await ticksOf('leap-sunday')).toEqual(['2032-02-29T00:00:00.000Z']);
  });

  it('catches up only after the newest claimed tick, however far back the window reaches', async () => {
    await scheduled('hourly', '0 * * * *', '2026-11-26T00:00:00Z');
    // Claimed before, and then deleted by the retention but for the newest: 2026-11-27T10:00.
    await db.sql`
      INSERT INTO schedule_ticks (workflow_id, tick_at, run_id)
      VALUES ('hourly', '2026-11-27T10:00:00Z', 'kept-claim')`;
    const clock = { t: Date.parse('2026-11-27T12:00:30Z') };
    loop(clock, 2 * 24 * 3_600_000);
    await waitFor(async () => ((await runsOf('hourly')).length === 2 ? true : undefined), {
      timeoutMs: 5000,
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(await ticksOf('hourly')).toEqual(['2026-11-27T11:00:00.000Z', '2026-11-27T12:00:00.000Z']);
  });

  it('fires nothing before the definition that holds the schedule was written', async () => {
    await scheduled('fresh', '* * * * *', '2026-11-28T10:00:30Z');
    const clock = { t: Date.parse('2026-11-28T10:00:40Z') };
    loop(clock);
    await new Promise((r) => setTimeout(r, 200));
    expect(await ticksOf('fresh')).toEqual([]);
    clock.t = Date.parse('2026-11-28T10:01:00Z');
    await waitFor(async () => ((await runsOf('fresh')).length === 1 ? true : undefined), { timeoutMs: 5000 });
    expect(await ticksOf('fresh')).toEqual(['2026-11-28T10:01:00.000Z']);
  });

  it('stops firing a workflow whose schedule is removed, and follows a changed one', async () => {
    await scheduled('changing', '0 * * * *', '2026-11-28T09:00:00Z');
    const clock = { t: Date.parse('2026-11-28T10:00:10Z') };
    loop(clock);
    await waitFor(async () => ((await runsOf('changing')).length === 1 ? true : undefined), {
      timeoutMs: 5000,
    });
    // Re-applied at 10:20 with another schedule: version 2, every 30 minutes.
    await scheduled('changing', '*/30 * * * *', '2026-11-28T10:20:00Z', 2);
    clock.t = Date.parse('2026-11-28T10:30:00Z');
    await waitFor(async () => ((await runsOf('changing')).length === 2 ? true : undefined), {
      timeoutMs: 5000,
    });
    // Re-applied at 10:40 with no schedule: nothing more.
    await scheduled('changing', undefined, '2026-11-28T10:40:00Z', 3);
    await new Promise((r) => setTimeout(r, 100));
    clock.t = Date.parse('2026-11-28T11:00:00Z');
    await new Promise((r) => setTimeout(r, 300));
    const runs = await runsOf('changing');
    expect(runs.map((r) => [r.input.scheduledAt, r.workflow_version])).toEqual([
      ['2026-11-28T10:00:00.000Z', 1],
      ['2026-11-28T10:30:00.000Z', 2],
    ]);
  });
});
