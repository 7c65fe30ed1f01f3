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
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ReconcileResult, reconcileOnce } from './reconcile.js';
import { createReconcileRepository } from './repository.js';

let db: TestDatabase;
let redis: Redis;
const logger = createLogger({ service: 'reconcile-test', level: 'silent' });
const prefixes: string[] = [];
const buses: { close(): Promise<void> }[] = [];
let seq = 0;
const GRACE_MS = 1000;

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
  await db.sql`INSERT INTO workflows (id, name, definition) VALUES ('wf', 'wf', '{}')`;
  await db.sql`INSERT INTO workflow_versions (workflow_id, version, definition) VALUES ('wf', 1, '{}'), ('wf', 2, '{}')`;
});

afterAll(async () => {
  for (const b of buses) await b.close();
  for (const p of prefixes) await deleteRedisPrefix(redis, p);
  redis.disconnect();
  await db?.drop();
});

function setup(batchSize = 500) {
  const prefix = uniquePrefix('reconcile');
  prefixes.push(prefix);
  const bus = createBus({ redis, redisUrl: DEFAULT_TEST_REDIS_URL, prefix, source: 'reaper', logger });
  buses.push(bus);
  const deps = {
    repo: createReconcileRepository(db.sql),
    bus,
    redis,
    prefix,
    logger,
    graceMs: GRACE_MS,
    batchSize,
  };
  return { prefix, deps, names: streamNames(prefix) };
}

async function read(key: string): Promise<AnyEnvelope[]> {
  const entries = await redis.xrange(key, '-', '+');
  return entries.map(([, f]) => JSON.parse(f[1] ?? 'null') as AnyEnvelope);
}

/** A RUNNING run (remaining_tasks null = task runs never created) started a minute ago. */
async function insertRun(
  opts: { remaining?: number | null; cancelAgoS?: number; version?: number } = {},
): Promise<string> {
  seq += 1;
  const runId = `run-${seq}`;
  await db.sql`
    INSERT INTO runs (id, workflow_id, status, workflow_version, remaining_tasks, started_at, cancel_requested_at)
    VALUES (${runId}, 'wf', 'RUNNING', ${opts.version ?? 1}, ${opts.remaining === undefined ? 1 : opts.remaining},
            now() - interval '1 minute',
            CASE WHEN ${opts.cancelAgoS ?? -1}::int >= 0 THEN now() - make_interval(secs => ${opts.cancelAgoS ?? 0}) END)`;
  return runId;
}

/** `count` task runs of a new RUNNING run in `status`, their timestamps `agoS` seconds old. */
async function insertTasks(
  status: string,
  opts: {
    count?: number;
    agoS?: number;
    attempt?: number;
    retryable?: boolean | null;
    queue?: string;
    version?: number;
  } = {},
): Promise<{ runId: string; ids: string[] }> {
  const runId = await insertRun({ remaining: opts.count ?? 1, version: opts.version });
  const taskIds = Array.from({ length: opts.count ?? 1 }, (_, i) => `t${i}`);
  const ago = opts.agoS ?? 60;
  await db.sql`
    INSERT INTO task_runs (id, run_id, task_id, workflow_id, status, attempt, max_attempts, queue, error, retryable,
                           ready_at, queued_at, finished_at)
    SELECT ${runId} || ':' || t, ${runId}, t, 'wf', ${status}, ${opts.attempt ?? 1}, 3, ${opts.queue ?? 'default'},
           CASE WHEN ${status} = 'FAILED' THEN 'boom' END, ${opts.retryable ?? null}::boolean,
           CASE WHEN ${status} = 'READY' THEN now() - make_interval(secs => ${ago}) END,
           CASE WHEN ${status} = 'QUEUED' THEN now() - make_interval(secs => ${ago}) END,
           CASE WHEN ${status} IN ('SUCCESS', 'FAILED') THEN now() - make_interval(secs => ${ago}) END
    FROM unnest(${taskIds}::text[]) AS t`;
  return { runId, ids: taskIds.map((t) => `${runId}:${t}`) };
}

const total = (r: ReconcileResult) =>
  r.run_started +
  r.run_cancel_requested +
  r.task_succeeded +
  r.task_failed +
  r.task_ready +
  r.task_queued +
  r.task_decided;

describe('reconciler: each kind of lost event is re-published once per grace period', () => {
  it('re-publishes RunStarted for a RUNNING run with no task runs', async () => {
    const { deps, names } = setup();
    const runId = await insertRun({ remaining: null });
    const result = await reconcileOnce(deps);
    expect(result.run_started).toBe(1);
    expect((await read(names.runs)).map((e) => [e.type, e.data])).toEqual([
      ['RunStarted', { runId, workflowId: 'wf', workflowVersion: 1 }],
    ]);
    expect(total(await reconcileOnce(deps))).toBe(0);
  });

  it('re-publishes RunCancelRequested for a RUNNING run whose cancellation is older than the grace', async () => {
    const { deps, names } = setup();
    const runId = await insertRun({ cancelAgoS: 30 });
    await insertRun({ cancelAgoS: 0 });
    expect((await reconcileOnce(deps)).run_cancel_requested).toBe(1);
    expect((await read(names.runs)).map((e) => [e.type, e.data])).toEqual([
      ['RunCancelRequested', { runId }],
    ]);
  });

  it("re-publishes TaskSucceeded for an unpropagated SUCCESS, naming the run's pinned version", async () => {
    const { deps, names } = setup();
    const { runId, ids } = await insertTasks('SUCCESS', { attempt: 2, version: 2 });
    await insertTasks('SUCCESS', { agoS: 0 });
    expect((await reconcileOnce(deps)).task_succeeded).toBe(1);
    expect((await read(names.results)).map((e) => [e.type, e.data])).toEqual([
      [
        'TaskSucceeded',
        { runId, taskId: 't0', taskRunId: ids[0], attempt: 2, workflowId: 'wf', workflowVersion: 2 },
      ],
    ]);
  });

  it.each([
    [true, true],
    [false, false],
    [null, false],
  ])('re-publishes TaskFailed with the stored retryable %s as %s', async (stored, sent) => {
    const { deps, names } = setup();
    const { runId, ids } = await insertTasks('FAILED', { retryable: stored });
    expect((await reconcileOnce(deps)).task_failed).toBe(1);
    expect((await read(names.results)).map((e) => [e.type, e.data])).toEqual([
      ['TaskFailed', { runId, taskId: 't0', taskRunId: ids[0], attempt: 1, error: 'boom', retryable: sent }],
    ]);
  });

  it('leaves a FAILED task of a finished run alone', async () => {
    const { deps } = setup();
    const { runId } = await insertTasks('FAILED', { retryable: true });
    await db.sql`UPDATE runs SET status = 'FAILED', finished_at = now() WHERE id = ${runId}`;
    expect((await reconcileOnce(deps)).task_failed).toBe(0);
  });

  it('re-publishes TaskReady for a row READY (and due) longer than the grace', async () => {
    const { deps, names } = setup();
    const { runId, ids } = await insertTasks('READY');
    await insertTasks('READY', { agoS: 0 });
    expect((await reconcileOnce(deps)).task_ready).toBe(1);
    expect((await read(names.ready)).map((e) => [e.type, e.data])).toEqual([
      ['TaskReady', { runId, taskId: 't0', taskRunId: ids[0], queue: 'default' }],
    ]);
    expect((await reconcileOnce(deps)).task_ready).toBe(0);
  });

  it('re-publishes TaskQueued with the same attempt when the work stream is gone', async () => {
    const { deps, names } = setup();
    const { runId, ids } = await insertTasks('QUEUED', { attempt: 3, queue: 'gpu' });
    expect((await reconcileOnce(deps)).task_queued).toBe(1);
    expect((await read(names.work('gpu'))).map((e) => [e.type, e.data])).toEqual([
      [
        'TaskQueued',
        {
          runId,
          taskId: 't0',
          taskRunId: ids[0],
          attempt: 3,
          queue: 'gpu',
          workflowId: 'wf',
          workflowVersion: 1,
        },
      ],
    ]);
  });

  it('re-publishes the recorded decision of a task still BLOCKED after the grace', async () => {
    const { deps, names } = setup();
    const approved = await insertTasks('BLOCKED');
    const rejected = await insertTasks('BLOCKED');
    const fresh = await insertTasks('BLOCKED');
    const undecided = await insertTasks('BLOCKED');
    await db.sql`
      INSERT INTO task_decisions (task_run_id, decision, decided_by, reason, decided_at) VALUES
        (${approved.ids[0] ?? ''}, 'APPROVED', 'alice', NULL, now() - interval '30 seconds'),
        (${rejected.ids[0] ?? ''}, 'REJECTED', NULL, 'not today', now() - interval '30 seconds'),
        (${fresh.ids[0] ?? ''}, 'APPROVED', NULL, NULL, now())`;
    expect((await reconcileOnce(deps)).task_decided).toBe(2);
    expect(
      (await read(names.runs))
        .map((e) => [e.type, e.data])
        .sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    ).toEqual([
      ['TaskApproved', { runId: approved.runId, taskId: 't0', by: 'alice' }],
      ['TaskRejected', { runId: rejected.runId, taskId: 't0', reason: 'not today' }],
    ]);
    expect((await reconcileOnce(deps)).task_decided).toBe(0);
    // Applied (the scheduler moved them on): nothing more, whatever the decision rows say.
    const settled = [approved.ids[0], rejected.ids[0], fresh.ids[0], undecided.ids[0]] as string[];
    await db.sql`UPDATE task_runs SET status = 'CANCELLED', reconciled_at = NULL WHERE id = ANY(${settled}::text[])`;
    expect((await reconcileOnce(deps)).task_decided).toBe(0);
  });

  it('reports a RUNNING run with no task left without writing it', async () => {
    const { deps } = setup();
    const runId = await insertRun({ remaining: 0 });
    expect((await reconcileOnce(deps)).unfinishable).toBeGreaterThanOrEqual(1);
    const [run] = await db.sql<{ status: string }[]>`SELECT status FROM runs WHERE id = ${runId}`;
    expect(run?.status).toBe('RUNNING');
    await db.sql`UPDATE runs SET status = 'SUCCESS' WHERE id = ${runId}`;
  });
});

describe('reconciler: a healthy backlog is left alone', () => {
  /** A QUEUED row whose work message sits in the stream with the id its publish would have had. */
  async function queuedWithMessage(names: ReturnType<typeof streamNames>, queue: string) {
    const { ids } = await insertTasks('QUEUED', { queue, agoS: 60 });
    const [row] = await db.sql<{ ms: number }[]>`
      SELECT (extract(epoch FROM queued_at) * 1000)::float8 AS ms FROM task_runs WHERE id = ${ids[0] ?? ''}`;
    const key = names.work(queue);
    await redis.xgroup('CREATE', key, 'worker', '0', 'MKSTREAM');
    await redis.xadd(key, `${Math.floor(row?.ms ?? 0) + 5}-0`, 'event', '{}');
    return key;
  }

  it('does not re-publish a message still undelivered', async () => {
    const { deps, names } = setup();
    const key = await queuedWithMessage(names, 'backlog');
    for (let i = 0; i < 3; i++) expect((await reconcileOnce(deps)).task_queued).toBe(0);
    expect(await redis.xlen(key)).toBe(1);
    await db.sql`UPDATE task_runs SET status = 'CANCELLED' WHERE queue = 'backlog'`;
  });

  it('does not re-publish a message delivered but not yet acknowledged', async () => {
    const { deps, names } = setup();
    const key = await queuedWithMessage(names, 'inflight');
    await redis.xreadgroup('GROUP', 'worker', 'w1', 'COUNT', 10, 'STREAMS', key, '>');
    for (let i = 0; i < 3; i++) expect((await reconcileOnce(deps)).task_queued).toBe(0);
    await db.sql`UPDATE task_runs SET status = 'CANCELLED' WHERE queue = 'inflight'`;
  });

  it('re-publishes once a message was delivered and acknowledged but the row never moved', async () => {
    const { deps, names } = setup();
    const key = await queuedWithMessage(names, 'acked');
    const read1 = (await redis.xreadgroup('GROUP', 'worker', 'w1', 'COUNT', 10, 'STREAMS', key, '>')) as [
      string,
      [string, string[]][],
    ][];
    await redis.xack(key, 'worker', ...(read1[0]?.[1] ?? []).map(([id]) => id));
    expect((await reconcileOnce(deps)).task_queued).toBe(1);
    expect((await reconcileOnce(deps)).task_queued).toBe(0);
    expect(await redis.xlen(key)).toBe(2);
  });
});

describe('reconciler: replicas', () => {
  it('two concurrent reconcilers re-publish each of 200 stuck rows once', async () => {
    const a = setup(50);
    const b = { ...a.deps, repo: createReconcileRepository(db.sql) };
    const { ids } = await insertTasks('READY', { count: 200, queue: 'twins' });
    const [ra, rb] = await Promise.all([reconcileOnce(a.deps), reconcileOnce(b)]);
    expect(ra.task_ready + rb.task_ready).toBe(200);
    const events = (await read(a.names.ready)).map((e) => (e.data as { taskRunId: string }).taskRunId);
    expect(events).toHaveLength(200);
    expect(new Set(events)).toEqual(new Set(ids));
  });
});

describe('reconciler: cost at rest', () => {
  it('sweeps 10,000 finished runs with a fixed number of indexed statements', async () => {
    // A database of its own: the other tests' rows are not "at rest".
    const quiet = await createTestDatabase();
    const captured: { query: string; params: unknown[] }[] = [];
    const counting = postgres(quiet.url, {
      max: 1,
      onnotice: () => {},
      debug: (_c, query, params) => captured.push({ query, params: [...params] }),
    });
    try {
      await quiet.sql`INSERT INTO workflows (id, name, definition) VALUES ('wf', 'wf', '{}')`;
      await quiet.sql`
        INSERT INTO runs (id, workflow_id, status, workflow_version, remaining_tasks, started_at, finished_at)
        SELECT 'r' || i, 'wf', CASE WHEN i % 10 = 0 THEN 'FAILED' ELSE 'SUCCESS' END, 1, 0,
               now() - interval '1 hour', now() - interval '59 minutes'
        FROM generate_series(1, 10000) AS i`;
      await quiet.sql`
        INSERT INTO task_runs (id, run_id, task_id, workflow_id, status, attempt, ready_at, queued_at,
                               started_at, finished_at, heartbeat_at, propagated_at, error, retryable)
        SELECT 'r' || i || ':' || t, 'r' || i, t, 'wf',
               CASE WHEN i % 10 = 0 AND t = 'b' THEN 'FAILED' ELSE 'SUCCESS' END, 1,
               now() - interval '1 hour', now() - interval '1 hour', now() - interval '1 hour',
               now() - interval '59 minutes', now() - interval '59 minutes',
               CASE WHEN i % 10 = 0 AND t = 'b' THEN NULL ELSE now() - interval '59 minutes' END,
               CASE WHEN i % 10 = 0 AND t = 'b' THEN 'boom' END, CASE WHEN i % 10 = 0 AND t = 'b' THEN false END
        FROM generate_series(1, 10000) AS i, unnest(ARRAY['a', 'b']) AS t`;
      await quiet.sql`ANALYZE runs`;
      await quiet.sql`ANALYZE task_runs`;
      const { deps } = setup();
      const sweepDeps = { ...deps, repo: createReconcileRepository(counting), graceMs: 15_000 };
      await reconcileOnce(sweepDeps); // warm-up: connection and plans
      captured.length = 0;
      const started = performance.now();
      const result = await reconcileOnce(sweepDeps);
      const elapsedMs = performance.now() - started;
      expect(total(result)).toBe(0);
      expect(captured).toHaveLength(8);
      for (const { query, params } of captured) {
        const plan = (await quiet.sql.unsafe(`EXPLAIN ${query}`, params as never[])) as {
          'QUERY PLAN': string;
        }[];
        const text = plan.map((p) => p['QUERY PLAN']).join('\n');
        expect(text, text).not.toMatch(/Seq Scan on (task_runs|runs)\b/);
      }
      console.info(`reconciler sweep at rest: ${captured.length} statements, ${elapsedMs.toFixed(1)} ms`);
      expect(elapsedMs).toBeLessThan(500);
    } finally {
      await counting.end({ timeout: 5 });
      await quiet.drop();
    }
  });
});
