import { createLogger } from '@relay/runtime';
import {
  createTestDatabase,
  createTestRedis,
  deleteRedisPrefix,
  type TestDatabase,
  uniquePrefix,
} from '@relay/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadReaperConfig } from './config.js';
import { pruneOnce, RETENTION_BATCH } from './retention.js';
import { startReaper } from './service.js';

let db: TestDatabase;
const logger = createLogger({ service: 'reaper-test', level: 'silent' });

beforeAll(async () => {
  db = await createTestDatabase();
  await db.sql`INSERT INTO workflows (id, name, definition) VALUES ('wf', 'wf', '{}')`;
});
afterAll(async () => {
  await db?.drop();
});

/**
 * `count` runs `prefix-i` in `status`, finished (when not RUNNING) `ageDays` ago, each with two task
 * runs, an attempt, a decision and an artifact.
 */
async function insertRuns(prefix: string, count: number, status: string, ageDays: number): Promise<void> {
  await db.sql`
    INSERT INTO runs (id, workflow_id, status, workflow_version, started_at, finished_at)
    SELECT ${prefix} || '-' || g, 'wf', ${status}, 1, now() - make_interval(days => ${ageDays + 1}),
           CASE WHEN ${status} <> 'RUNNING' THEN now() - make_interval(days => ${ageDays}) END
    FROM generate_series(1, ${count}) g`;
  await db.sql`
    INSERT INTO task_runs (id, run_id, task_id, workflow_id, status, attempt)
    SELECT r.id || ':' || t, r.id, t, 'wf', 'SUCCESS', 1
    FROM runs r, unnest(ARRAY['a', 'b']) t WHERE r.id LIKE ${`${prefix}-%`}`;
  await db.sql`
    INSERT INTO task_attempts (task_run_id, attempt, status)
    SELECT id, 1, 'SUCCESS' FROM task_runs WHERE run_id LIKE ${`${prefix}-%`}`;
  await db.sql`
    INSERT INTO task_decisions (task_run_id, decision)
    SELECT id, 'APPROVED' FROM task_runs WHERE run_id LIKE ${`${prefix}-%`} AND task_id = 'a'`;
  await db.sql`
    INSERT INTO artifacts (id, task_run_id, content)
    SELECT id || ':out', id, 'x' FROM task_runs WHERE run_id LIKE ${`${prefix}-%`} AND task_id = 'b'`;
}

/** Rows left per table for runs named `prefix-*`. */
async function left(prefix: string) {
  const like = `${prefix}-%`;
  const [row] = await db.sql<
    { runs: number; tasks: number; attempts: number; decisions: number; artifacts: number }[]
  >`
    SELECT (SELECT count(*)::int FROM runs WHERE id LIKE ${like}) AS runs,
           (SELECT count(*)::int FROM task_runs WHERE run_id LIKE ${like}) AS tasks,
           (SELECT count(*)::int FROM task_attempts WHERE task_run_id LIKE ${like}) AS attempts,
           (SELECT count(*)::int FROM task_decisions WHERE task_run_id LIKE ${like}) AS decisions,
           (SELECT count(*)::int FROM artifacts WHERE task_run_id LIKE ${like}) AS artifacts`;
  return row;
}

describe('retention', () => {
  it('deletes finished runs past the retention with everything of theirs; keeps newer and RUNNING ones', async () => {
    await insertRuns('old-ok', RETENTION_BATCH + 7, 'SUCCESS', 40);
    await insertRuns('old-failed', 3, 'FAILED', 31);
    await insertRuns('old-cancelled', 2, 'CANCELLED', 400);
    await insertRuns('young', 4, 'SUCCESS', 29);
    await insertRuns('old-running', 2, 'RUNNING', 90);
    await db.sql`
      INSERT INTO events (id, type, payload, run_ids, received_at) VALUES
        ('e-old', 't', '{}', '{}', now() - interval '31 days'), ('e-new', 't', '{}', '{}', now())`;
    await db.sql`
      INSERT INTO schedule_ticks (workflow_id, tick_at, run_id) VALUES
        ('wf', now() - interval '31 days', 'x'), ('wf', now() - interval '1 minute', 'y'),
        ('monthly', now() - interval '62 days', 'm1'), ('monthly', now() - interval '31 days', 'm2')`;

    const pruned = await pruneOnce(db.sql, 30, logger);

    expect(pruned).toEqual({ runs: RETENTION_BATCH + 12, events: 1, ticks: 2 });
    const none = { runs: 0, tasks: 0, attempts: 0, decisions: 0, artifacts: 0 };
    for (const prefix of ['old-ok', 'old-failed', 'old-cancelled'])
      expect(await left(prefix), prefix).toEqual(none);
    expect(await left('young')).toEqual({ runs: 4, tasks: 8, attempts: 8, decisions: 4, artifacts: 4 });
    expect(await left('old-running')).toEqual({ runs: 2, tasks: 4, attempts: 4, decisions: 2, artifacts: 2 });
    expect((await db.sql`SELECT id FROM events ORDER BY id`).map((r) => r.id)).toEqual(['e-new']);
    // Each workflow's newest claim stays, however old: a restarted scheduler catches up after it.
    expect((await db.sql`SELECT run_id FROM schedule_ticks ORDER BY run_id`).map((r) => r.run_id)).toEqual([
      'm2',
      'y',
    ]);
    expect(await pruneOnce(db.sql, 30, logger)).toEqual({ runs: 0, events: 0, ticks: 0 });
  });

  it('is off by default; RELAY_RETENTION_DAYS turns on a sweep at start', async () => {
    expect(loadReaperConfig({}).RELAY_RETENTION_DAYS).toBe(0);
    await insertRuns('swept', 2, 'SUCCESS', 10);
    const redis = createTestRedis();
    const prefix = uniquePrefix('retention');
    const off = await startReaper(loadReaperConfig({ RELAY_PREFIX: prefix, HEALTH_PORT: '0' }), {
      sql: db.sql,
      redis,
      logger,
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    await off.stop();
    expect((await left('swept'))?.runs).toBe(2);
    const on = await startReaper(
      loadReaperConfig({ RELAY_PREFIX: prefix, HEALTH_PORT: '0', RELAY_RETENTION_DAYS: '7' }),
      { sql: db.sql, redis, logger },
    );
    try {
      await on.pruneNow();
      expect((await left('swept'))?.runs).toBe(0);
    } finally {
      await on.stop();
      await deleteRedisPrefix(redis, prefix);
      redis.disconnect();
    }
  });
});
