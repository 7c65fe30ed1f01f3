import { createBus } from '@relay/bus';
import { type AnyEnvelope, streamNames } from '@relay/contracts';
import { createLogger, type Redis } from '@relay/runtime';
import {
  createTestDatabase,
  createTestRedis,
  DEFAULT_TEST_REDIS_URL,
  deleteRedisPrefix,
  type TestDatabase,
  uniquePrefix,
} from '@relay/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadReaperConfig, reaperIntervalMs } from './config.js';
import { reapOnce, Steadiness } from './reap.js';
import { createReaperRepository } from './repository.js';

let db: TestDatabase;
let redis: Redis;
const logger = createLogger({ service: 'reaper-test', level: 'silent' });
const prefixes: string[] = [];
let seq = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
  await db.sql`INSERT INTO workflows (id, name, definition) VALUES ('wf', 'wf', '{}')`;
});

afterAll(async () => {
  for (const p of prefixes) await deleteRedisPrefix(redis, p);
  redis.disconnect();
  await db?.drop();
});

/** A RUNNING task run, as a worker holds it, with a heartbeat `ageMs` old (null = never heartbeated). */
async function insertRunning(
  count: number,
  opts: { heartbeatAgeMs: number | null; startedAgeMs?: number; attempt?: number; maxAttempts?: number },
): Promise<string> {
  seq += 1;
  const runId = `run-${seq}`;
  await db.sql`INSERT INTO runs (id, workflow_id, status, workflow_version) VALUES (${runId}, 'wf', 'RUNNING', 1)`;
  const taskIds = Array.from({ length: count }, (_, i) => `t${i}`);
  await db.sql`
    INSERT INTO task_runs (id, run_id, task_id, workflow_id, status, attempt, max_attempts, worker_id, started_at, heartbeat_at)
    SELECT ${runId} || ':' || t, ${runId}, t, 'wf', 'RUNNING', ${opts.attempt ?? 1}, ${opts.maxAttempts ?? 3}, 'w-dead',
           now() - make_interval(secs => ${(opts.startedAgeMs ?? 60_000) / 1000}),
           CASE WHEN ${opts.heartbeatAgeMs === null} THEN NULL
                ELSE now() - make_interval(secs => ${(opts.heartbeatAgeMs ?? 0) / 1000}) END
    FROM unnest(${db.sql.array(taskIds)}::text[]) AS t`;
  return runId;
}

function setup(timeoutMs = 10_000, batchSize = 500) {
  const prefix = uniquePrefix('reaper');
  prefixes.push(prefix);
  const bus = createBus({ redis, redisUrl: DEFAULT_TEST_REDIS_URL, prefix, source: 'reaper', logger });
  const deps = { repo: createReaperRepository(db.sql), bus, logger, timeoutMs, batchSize };
  return { prefix, bus, deps, names: streamNames(prefix) };
}

async function read(key: string): Promise<AnyEnvelope[]> {
  const entries = await redis.xrange(key, '-', '+');
  return entries.map(([, f]) => JSON.parse(f[1] ?? 'null') as AnyEnvelope);
}

async function rows(runId: string) {
  return db.sql<
    {
      id: string;
      status: string;
      retryable: boolean | null;
      worker_id: string | null;
      error: string | null;
      finished_at: Date | null;
    }[]
  >`
    SELECT id, status, retryable, worker_id, error, finished_at FROM task_runs WHERE run_id = ${runId} ORDER BY id`;
}

describe('reaper config', () => {
  it.each([
    [{}, 1000],
    [{ RELAY_HEARTBEAT_TIMEOUT_MS: '2000', RELAY_HEARTBEAT_INTERVAL_MS: '500' }, 500],
    [{ RELAY_REAPER_INTERVAL_MS: '250' }, 250],
  ])('derives the scan period from %j', (env, expected) => {
    expect(reaperIntervalMs(loadReaperConfig(env))).toBe(expected);
  });

  it('rejects a bad interval naming the variable', () => {
    expect(() => loadReaperConfig({ RELAY_REAPER_INTERVAL_MS: '-5' })).toThrow(/RELAY_REAPER_INTERVAL_MS/);
  });
});

describe('reaping stalled attempts', () => {
  it('fails a RUNNING attempt with an old heartbeat as retryable and publishes HeartbeatMissed', async () => {
    const { deps, names, bus } = setup();
    const runId = await insertRunning(1, { heartbeatAgeMs: 30_000 });
    const fresh = await insertRunning(1, { heartbeatAgeMs: 1000 });
    expect(await reapOnce(deps)).toBe(1);
    const [row] = await rows(runId);
    expect(row).toMatchObject({
      status: 'FAILED',
      retryable: true,
      worker_id: 'w-dead',
      error: 'worker lost: no heartbeat for 10s (attempt 1)',
    });
    expect(row?.finished_at).not.toBeNull();
    expect((await rows(fresh))[0]?.status).toBe('RUNNING');
    const results = await read(names.results);
    expect(results.map((e) => [e.type, e.data])).toEqual([
      ['HeartbeatMissed', { runId, taskId: 't0', taskRunId: `${runId}:t0`, attempt: 1, outcome: 'FAILED' }],
    ]);
    // The retry, after the task's backoff, is the scheduler's: the reaper announces no TaskReady.
    expect(await read(names.ready)).toEqual([]);
    expect(await reapOnce(deps)).toBe(0);
    await bus.close();
  });

  it('fails the last attempt the same way', async () => {
    const { deps, names, bus } = setup();
    const runId = await insertRunning(1, { heartbeatAgeMs: 30_000, attempt: 3, maxAttempts: 3 });
    expect(await reapOnce(deps)).toBe(1);
    const [row] = await rows(runId);
    expect(row?.status).toBe('FAILED');
    expect(row?.error).toMatch(/^worker lost: no heartbeat for 10s \(attempt 3\)$/);
    expect(row?.finished_at).not.toBeNull();
    expect((await read(names.results)).map((e) => e.data)).toEqual([
      { runId, taskId: 't0', taskRunId: `${runId}:t0`, attempt: 3, outcome: 'FAILED' },
    ]);
    expect(await read(names.ready)).toEqual([]);
    await bus.close();
  });

  it('reaps nothing while told not to apply, and answers all the same', async () => {
    const { deps, names, bus } = setup();
    const runId = await insertRunning(1, { heartbeatAgeMs: 30_000 });
    expect(await reapOnce({ ...deps, apply: false })).toBe(0);
    expect((await rows(runId))[0]?.status).toBe('RUNNING');
    expect(await read(names.results)).toEqual([]);
    expect(await reapOnce(deps)).toBe(1);
    await bus.close();
  });

  it('counts a never-heartbeated attempt from started_at', async () => {
    const { deps, bus } = setup();
    const old = await insertRunning(1, { heartbeatAgeMs: null, startedAgeMs: 30_000 });
    const recent = await insertRunning(1, { heartbeatAgeMs: null, startedAgeMs: 1000 });
    expect(await reapOnce(deps)).toBe(1);
    expect((await rows(old))[0]?.status).toBe('FAILED');
    expect((await rows(recent))[0]?.status).toBe('RUNNING');
    await bus.close();
  });

  it('two reapers on 200 stale rows handle each attempt exactly once', async () => {
    const a = setup(10_000, 50);
    const runId = await insertRunning(200, { heartbeatAgeMs: 60_000 });
    const b = {
      ...a.deps,
      repo: createReaperRepository(db.sql),
      bus: createBus({ redis, redisUrl: DEFAULT_TEST_REDIS_URL, prefix: a.prefix, source: 'reaper', logger }),
    };
    const [na, nb] = await Promise.all([reapOnce(a.deps), reapOnce(b)]);
    expect(na + nb).toBe(200);
    const missed = (await read(a.names.results)).filter((e) => e.type === 'HeartbeatMissed');
    expect(missed).toHaveLength(200);
    expect(new Set(missed.map((e) => (e.data as { taskRunId: string }).taskRunId)).size).toBe(200);
    expect((await rows(runId)).every((r) => r.status === 'FAILED')).toBe(true);
    await a.bus.close();
    await b.bus.close();
  });
});

describe('attempt history', () => {
  it('records a reaped attempt as LOST in task_attempts, once', async () => {
    const { deps, bus } = setup();
    const runId = await insertRunning(1, { heartbeatAgeMs: 30_000, attempt: 2 });
    expect(await reapOnce(deps)).toBe(1);
    expect(await reapOnce(deps)).toBe(0);
    const history = await db.sql<{ attempt: number; status: string; worker_id: string }[]>`
      SELECT attempt, status, worker_id FROM task_attempts WHERE task_run_id = ${`${runId}:t0`}`;
    expect(history).toEqual([{ attempt: 2, status: 'LOST', worker_id: 'w-dead' }]);
    await bus.close();
  });
});

describe('Steadiness: reaping only after the database answered for a whole heartbeat timeout', () => {
  // Heartbeat timeout 10 s, passes every second, a gap of more than 3 s breaks the streak.
  const make = () => new Steadiness(10_000, 3000);
  /** Passes every second from `from` to `to` (ms), each reaching the database in 5 ms. */
  function passes(s: Steadiness, from: number, to: number): boolean[] {
    const applied: boolean[] = [];
    for (let t = from; t <= to; t += 1000) {
      applied.push(s.steady(t));
      s.reached(t, t + 5);
    }
    return applied;
  }

  it('waits one timeout after start', () => {
    const s = make();
    const applied = passes(s, 0, 12_000);
    expect(applied.indexOf(true)).toBe(10);
    expect(applied.slice(10).every(Boolean)).toBe(true);
  });

  it('waits one timeout after the database answers again, however long it was gone', () => {
    const s = make();
    passes(s, 0, 12_000);
    // The database goes away at 13 s: the first failing pass started while all was well.
    expect(s.steady(13_000)).toBe(true);
    s.failed();
    for (let t = 14_000; t <= 40_000; t += 1000) {
      expect(s.steady(t)).toBe(false);
      s.failed();
    }
    const after = passes(s, 41_000, 52_000);
    expect(after.indexOf(true)).toBe(10);
  });

  it('starts over after a gap between passes (the reaper itself was frozen)', () => {
    const s = make();
    passes(s, 0, 12_000);
    expect(s.steady(60_000)).toBe(false);
    s.reached(60_000, 60_005);
    expect(s.steady(61_000)).toBe(false);
    expect(passes(s, 61_000, 71_000).indexOf(true)).toBe(9);
  });
});
