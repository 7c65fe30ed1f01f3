import type { Envelope } from '@relay/contracts';
import { createSql } from '@relay/db';
import { createLogger } from '@relay/runtime';
import { createTestDatabase, DEFAULT_TEST_ADMIN_URL, type TestDatabase } from '@relay/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertRun, insertWorkflow, task } from '../../test/fixtures.js';
import { DefinitionCache, type PreparedTask } from '../prepare.js';
import { createWorkerRepository } from '../repository.js';
import { handleTaskQueued, isDatabaseAway } from './task-queued.js';

const WF = 'away-wf';
let db: TestDatabase;
const admin = createSql(process.env.RELAY_TEST_ADMIN_URL ?? DEFAULT_TEST_ADMIN_URL, { max: 1 });

beforeAll(async () => {
  db = await createTestDatabase();
  await insertWorkflow(db.sql, WF, [task('a', { with: { n: 1 } })]);
});

afterAll(async () => {
  await admin.unsafe(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS true`).catch(() => {});
  await admin.end({ timeout: 5 });
  await db?.drop();
});

/** Closes this test's database to connections and ends its sessions, for `ms`, as an outage does. */
async function outage(ms: number): Promise<void> {
  await admin.unsafe(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS false`);
  await admin`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ${db.name}`;
  setTimeout(() => {
    admin.unsafe(`ALTER DATABASE "${db.name}" ALLOW_CONNECTIONS true`).catch(() => {});
  }, ms);
}

function queued(runId: string): Envelope<'TaskQueued'> {
  return {
    id: `evt-${runId}`,
    type: 'TaskQueued',
    source: 'dispatcher',
    occurredAt: new Date().toISOString(),
    data: {
      runId,
      taskId: 'a',
      taskRunId: `${runId}:a`,
      attempt: 1,
      queue: 'default',
      workflowId: WF,
      workflowVersion: 1,
    },
  } as Envelope<'TaskQueued'>;
}

/** Handles one TaskQueued whose claim commits just before the database goes away for `outageMs`. */
async function claimIntoOutage(running: boolean, outageMs: number) {
  const runId = await insertRun(db.sql, WF, { queued: ['a'] });
  const repo = createWorkerRepository(db.sql);
  const warnings: string[] = [];
  const logger = createLogger({ service: 'worker-test', level: 'silent' });
  logger.warn = ((_: unknown, msg: string) => warnings.push(msg)) as unknown as typeof logger.warn;
  const launched: PreparedTask[] = [];
  await handleTaskQueued([queued(runId)], {
    repo: {
      claimTaskRuns: async (...args) => {
        const claimed = await repo.claimTaskRuns(...args);
        await outage(outageMs);
        return claimed;
      },
      loadRunContexts: repo.loadRunContexts,
    },
    bus: { publish: async () => [] },
    definitions: new DefinitionCache(repo),
    workerId: 'w-1',
    logger,
    hold: () => {},
    launch: (p) => launched.push(p),
    running: () => running,
    retryDelayMs: 50,
  });
  return { launched, warnings };
}

describe('handleTaskQueued when the database goes away after the claim', () => {
  it('retries loading the definition until the database is back, then launches the attempt', async () => {
    const { launched, warnings } = await claimIntoOutage(true, 1000);
    expect(launched).toHaveLength(1);
    expect(launched[0]).toMatchObject({ ok: true, input: { n: 1 } });
    expect(warnings).toContain('loading task context failed, retrying');
  });

  it('fails the attempt retryably at once while the worker is stopping', async () => {
    const { launched } = await claimIntoOutage(false, 300);
    expect(launched).toHaveLength(1);
    expect(launched[0]).toMatchObject({ ok: false, retryable: true });
    expect((launched[0] as { error: string }).error).toMatch(
      /^could not load the task's definition or inputs: /,
    );
  });

  it('tells an away database from a wrong query', () => {
    expect(
      isDatabaseAway(Object.assign(new Error('write CONNECTION_CLOSED'), { code: 'CONNECTION_CLOSED' })),
    ).toBe(true);
    expect(
      isDatabaseAway(Object.assign(new Error('the database system is starting up'), { code: '57P03' })),
    ).toBe(true);
    expect(
      isDatabaseAway(Object.assign(new Error('sorry, too many clients already'), { code: '53300' })),
    ).toBe(true);
    expect(
      isDatabaseAway(
        Object.assign(new Error('database "x" is not currently accepting connections'), { code: '55000' }),
      ),
    ).toBe(true);
    expect(isDatabaseAway(Object.assign(new Error('relation "t" does not exist'), { code: '42P01' }))).toBe(
      false,
    );
    expect(isDatabaseAway(new Error('boom'))).toBe(false);
  });
});
