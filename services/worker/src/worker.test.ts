// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} templates are workflow syntax under test
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Bus, createBus } from '@relay/bus';
import { streamNames } from '@relay/contracts';
import { createLogger, createMetricsRegistry, type Redis } from '@relay/runtime';
import type { JsonValue } from '@relay/template';
import {
  createTestDatabase,
  createTestRedis,
  DEFAULT_TEST_REDIS_URL,
  deleteRedisPrefix,
  holdInTransaction,
  type TestDatabase,
  uniquePrefix,
  waitFor,
} from '@relay/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventsOf, insertRun, insertWorkflow, isAlive, publishQueued, row, task } from '../test/fixtures.js';
import { loadWorkerConfig } from './config.js';
import { NonRetryableError } from './errors.js';
import { createWorkerRepository, groupsBySize, MAX_KEYED_JSON_LENGTH } from './repository.js';
import { startWorker } from './service.js';
import type { Handler } from './types.js';
import { createWorker, type Worker, type WorkerOptions } from './worker.js';

const logger = createLogger({ service: 'worker-test', level: 'silent' });
const WF = 'wf';
let db: TestDatabase;
let redis: Redis;
let server: Server;
let baseUrl: string;
const prefixes: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
const calls = new Map<string, number>();

const echo: Handler = async (input) => input;
const custom: Record<string, Handler> = {
  echo,
  count: async (_input, ctx) => {
    calls.set(ctx.taskRunId, (calls.get(ctx.taskRunId) ?? 0) + 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    return calls.get(ctx.taskRunId) ?? 0;
  },
  surrogate: async () => {
    // A lone surrogate, as a handler may build from a truncated string: stored as U+FFFD.
    throw new NonRetryableError('bad \ud800 text');
  },
  permanent: async () => {
    throw new NonRetryableError('card declined');
  },
  // Object.assign(new Error('HTTP 400'), await res.json()): an array message once wedged the worker.
  validation: async () => {
    throw Object.assign(new Error('HTTP 400'), { message: ['name must be a string'] });
  },
  big: async () => 'x'.repeat(2000),
  hang: (_input, ctx) =>
    new Promise((_, reject) =>
      ctx.signal.addEventListener('abort', () => reject(new Error('stopped')), { once: true }),
    ),
};

beforeAll(async () => {
  db = await createTestDatabase();
  redis = createTestRedis();
  await insertWorkflow(db.sql, WF, [
    task('up'),
    task('noop'),
    task('nap', { type: 'sleep', with: { duration: '50ms' } }),
    task('hello', { type: 'shell', with: { command: 'echo hello' } }),
    task('json', { type: 'shell', with: { command: 'printf \'{"a":[1,2]}\'' } }),
    task('fails', { type: 'shell', with: { command: 'echo oops >&2; echo more detail >&2; exit 3' } }),
    task('env', {
      type: 'shell',
      with: {
        command:
          'echo "$RELAY_ATTEMPT $RELAY_TASK_ID $RELAY_WORKFLOW_ID $GREETING $N $ON ${RELAY_API_TOKEN:-none} ${REDIS_URL:-none}"',
        env: { GREETING: '${{ input.greeting }}', N: 5, ON: true },
      },
    }),
    task('quoted', { needs: ['up'], type: 'shell', with: { command: 'echo ${{ input.v }}' } }),
    task('typed', {
      needs: ['up'],
      type: 'echo',
      with: {
        list: '${{ tasks.up.output.list }}',
        n: '${{ input.n }}',
        text: 'total=${{ tasks.up.output.total }}',
      },
    }),
    task('missing', { type: 'echo', with: { v: '${{ input.nope }}' } }),
    task('get', { type: 'http', with: { url: '${{ input.url }}/ok', method: 'POST', body: { a: 1 } } }),
    task('get404', { type: 'http', with: { url: '${{ input.url }}/missing' } }),
    task('timeout', {
      type: 'shell',
      timeoutMs: 300,
      with: { command: 'echo $$ > "$PIDFILE"; exec sleep 30', env: { PIDFILE: '${{ input.pidFile }}' } },
    }),
    task('abortable', {
      type: 'shell',
      with: { command: 'sleep 30 & echo $! > "$PIDFILE"; wait', env: { PIDFILE: '${{ input.pidFile }}' } },
    }),
    task('long', { type: 'sleep', with: { duration: '30s' } }),
    task('count', { type: 'count' }),
    task('unknown', { type: 'nobody-handles-this' }),
    task('permanent', { type: 'permanent' }),
    task('validation', { type: 'validation' }),
    task('surrogate', { type: 'surrogate' }),
    task('big', { type: 'big' }),
    task('hang', { type: 'hang' }),
    task('stubborn', { type: 'stubborn', timeoutMs: 100 }),
  ]);
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      if (req.url === '/ok') {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({ method: req.method, got: JSON.parse(body), type: req.headers['content-type'] }),
        );
      } else {
        res.statusCode = 404;
        res.end('no such thing');
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  for (const p of prefixes) await deleteRedisPrefix(redis, p);
  await new Promise((resolve) => server?.close(resolve));
  redis?.disconnect();
  await db?.drop();
});

/** Starts a worker on a fresh prefix; stopped in afterAll unless the test stops it. */
async function startTestWorker(
  opts: Partial<WorkerOptions> = {},
): Promise<{ worker: Worker; bus: Bus; prefix: string }> {
  const prefix = uniquePrefix('worker');
  prefixes.push(prefix);
  const worker = createWorker({
    handlers: custom,
    prefix,
    redisUrl: DEFAULT_TEST_REDIS_URL,
    sql: db.sql,
    redis,
    logger,
    heartbeatIntervalMs: 100,
    maxOutputBytes: 1000,
    env: {},
    ...opts,
  });
  const bus = createBus({ redis, redisUrl: DEFAULT_TEST_REDIS_URL, prefix, source: 'dispatcher', logger });
  await worker.start();
  let stopped = false;
  const stop = worker.stop.bind(worker);
  worker.stop = async () => {
    if (stopped) return;
    stopped = true;
    await stop();
  };
  cleanups.push(async () => {
    await worker.stop();
    await bus.close();
  });
  return { worker, bus, prefix };
}

async function waitStatus(id: string, status: string, timeoutMs = 10_000) {
  return waitFor(
    async () => {
      const r = await row(db.sql, id);
      return r?.status === status ? r : undefined;
    },
    { timeoutMs, message: `task run ${id} to be ${status}` },
  );
}

let shared: { worker: Worker; bus: Bus; prefix: string };
beforeAll(async () => {
  shared = await startTestWorker();
});

/** Runs `tasks` of a fresh run on the shared worker; returns the run id. */
async function run(
  tasks: string[],
  opts: { input?: unknown; done?: Record<string, unknown> } = {},
): Promise<string> {
  const runId = await insertRun(db.sql, WF, { ...opts, queued: tasks });
  await publishQueued(shared.bus, WF, runId, tasks);
  return runId;
}

describe('built-in and custom handlers', () => {
  it('runs noop, sleep, shell, http and a custom handler, writes outputs and publishes TaskSucceeded', async () => {
    const tasks = ['noop', 'nap', 'hello', 'json', 'get', 'typed'];
    const runId = await run(tasks, {
      input: { url: baseUrl, n: 5 },
      done: { up: { list: [1, 2], total: 42 } },
    });
    const outputs: Record<string, JsonValue> = {};
    for (const t of tasks) {
      const r = await waitStatus(`${runId}:${t}`, 'SUCCESS');
      expect(r.worker_id).toBe(shared.worker.workerId);
      outputs[t] = JSON.parse(r.output ?? 'undefined');
    }
    expect(outputs).toEqual({
      noop: null,
      nap: null,
      hello: 'hello',
      json: { a: [1, 2] },
      get: { method: 'POST', got: { a: 1 }, type: 'application/json' },
      typed: { list: [1, 2], n: 5, text: 'total=42' },
    });
    const names = streamNames(shared.prefix);
    for (const t of tasks) {
      const id = `${runId}:${t}`;
      expect((await eventsOf(redis, names.results, id)).map((e) => [e.type, e.data])).toEqual([
        [
          'TaskSucceeded',
          { runId, taskId: t, taskRunId: id, attempt: 1, workflowId: WF, workflowVersion: 1 },
        ],
      ]);
      expect((await eventsOf(redis, names.lifecycle, id)).map((e) => e.type)).toEqual(['TaskStarted']);
    }
    // The resolved input is stored: whole-value references keep their JSON type.
    expect((await row(db.sql, `${runId}:typed`))?.input).toEqual({ list: [1, 2], n: 5, text: 'total=42' });
  });

  it.each([
    ['fails', /^command exited with code 3: oops\nmore detail$/, true],
    // Retryable: any status >= 400 is an ordinary failed attempt (SPEC §3, §4).
    ['get404', /^HTTP 404 Not Found from GET http:\/\/127\.0\.0\.1:\d+\/missing: no such thing$/, true],
    // Retryable: another worker of the pool may register the type.
    [
      'unknown',
      /^no handler for type "nobody-handles-this" on queue "default" \(every worker of a queue must register its task types: give custom handlers a queue of their own\)$/,
      true,
    ],
    ['permanent', /^card declined$/, false],
    ['validation', /^\["name must be a string"\]$/, true],
    ['surrogate', /^bad \uFFFD text$/, false],
    ['big', /^output is 2002 bytes, over the limit of 1000 bytes \(RELAY_MAX_OUTPUT_BYTES\)$/, false],
    ['missing', /^template error: with\.v: input\.nope is not defined$/, false],
  ])('fails %s with a clear error', async (t, message, retryable) => {
    const runId = await run([t], { input: { url: baseUrl } });
    const id = `${runId}:${t}`;
    const r = await waitStatus(id, 'FAILED');
    expect(r.error).toMatch(message);
    const events = await waitFor(async () => {
      const e = await eventsOf(redis, streamNames(shared.prefix).results, id);
      return e.length > 0 ? e : undefined;
    });
    expect(events.map((e) => e.type)).toEqual(['TaskFailed']);
    expect(events[0]?.data).toMatchObject({ attempt: 1, retryable, error: r.error });
  });

  it('gives a shell command its RELAY_* ids and with.env, never the worker secrets', async () => {
    process.env.RELAY_API_TOKEN = 'secret-token';
    process.env.REDIS_URL = DEFAULT_TEST_REDIS_URL;
    try {
      const runId = await run(['env'], { input: { greeting: 'hi there' } });
      const r = await waitStatus(`${runId}:env`, 'SUCCESS');
      expect(JSON.parse(r.output ?? '')).toBe(`1 env ${WF} hi there 5 true none none`);
    } finally {
      delete process.env.RELAY_API_TOKEN;
      delete process.env.REDIS_URL;
    }
  });

  it('quotes a reference in a shell command as one word: input is printed, never run', async () => {
    const marker = join(tmpdir(), `pwned-${randomUUID()}`);
    const v = `x; touch ${marker}`;
    const runId = await run(['quoted'], { input: { v }, done: { up: null } });
    const r = await waitStatus(`${runId}:quoted`, 'SUCCESS');
    expect(JSON.parse(r.output ?? '')).toBe(v);
    expect(existsSync(marker)).toBe(false);
  });
});

describe('timeouts, aborts and supersession', () => {
  it('fails a timed-out attempt retryably and kills the shell', async () => {
    const pidFile = join(tmpdir(), `relay-pid-${randomUUID()}`);
    const runId = await run(['timeout'], { input: { pidFile } });
    const r = await waitStatus(`${runId}:timeout`, 'FAILED');
    expect(r.error).toBe('timed out after 300ms');
    const [event] = await eventsOf(redis, streamNames(shared.prefix).results, `${runId}:timeout`);
    expect(event?.data).toMatchObject({ retryable: true });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    await waitFor(() => !isAlive(pid), { message: `shell ${pid} to be gone` });
    rmSync(pidFile);
  });

  it('TaskAbortRequested kills a running shell process group and its result is not written', async () => {
    const pidFile = join(tmpdir(), `relay-pid-${randomUUID()}`);
    const runId = await run(['abortable'], { input: { pidFile } });
    const id = `${runId}:abortable`;
    await waitStatus(id, 'RUNNING');
    const pid = await waitFor(() => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0));
    expect(isAlive(pid)).toBe(true);
    // As the scheduler does: cancel the row, then tell the workers.
    await db.sql`UPDATE task_runs SET status = 'CANCELLED', finished_at = now() WHERE id = ${id}`;
    await shared.bus.publish({
      type: 'TaskAbortRequested',
      data: { runId, taskRunIds: [id], reason: 'CANCELLED' },
    });
    await waitFor(() => !isAlive(pid), { message: `background child ${pid} to be killed` });
    await waitFor(() => shared.worker.heldCount === 0, { message: 'the attempt to be released' });
    expect((await row(db.sql, id))?.status).toBe('CANCELLED');
    expect(await eventsOf(redis, streamNames(shared.prefix).results, id)).toEqual([]);
    rmSync(pidFile);
  });

  it('advances heartbeat_at while a task runs', async () => {
    const runId = await run(['long']);
    const id = `${runId}:long`;
    const first = (await waitStatus(id, 'RUNNING')).heartbeat_at?.getTime() ?? 0;
    await waitFor(async () => ((await row(db.sql, id))?.heartbeat_at?.getTime() ?? 0) > first, {
      message: 'heartbeat_at to advance',
    });
    await db.sql`UPDATE task_runs SET status = 'CANCELLED' WHERE id = ${id}`;
  });

  it('never waits for a row lock to heartbeat: a locked row is skipped and still counted as held', async () => {
    const runId = await insertRun(db.sql, WF, { queued: ['long', 'noop'] });
    const [locked, free] = [`${runId}:long`, `${runId}:noop`];
    await db.sql`UPDATE task_runs SET status = 'RUNNING', worker_id = 'w-lock', heartbeat_at = now() - interval '1 minute'
                 WHERE run_id = ${runId}`;
    const repo = createWorkerRepository(db.sql);
    const keys = [locked, free].map((id) => ({ id, attempt: 1 }));
    // Another transaction holds the row, as this worker's own completion of it would.
    const holder = await holdInTransaction(
      db.sql,
      (tx) => tx`SELECT id FROM task_runs WHERE id = ${locked} FOR UPDATE`,
    );
    try {
      const alive = await Promise.race([
        repo.heartbeat('w-lock', keys),
        new Promise<never>((_, reject) =>
          setTimeout(() => reject(new Error('heartbeat waited for the lock')), 3000),
        ),
      ]);
      expect(alive).toEqual(new Set([locked, free]));
      const beats = await db.sql<{ id: string; recent: boolean }[]>`
        SELECT id, heartbeat_at > now() - interval '10 seconds' AS recent FROM task_runs
        WHERE run_id = ${runId} ORDER BY id`;
      expect(beats).toEqual([
        { id: locked, recent: false },
        { id: free, recent: true },
      ]);
    } finally {
      await holder.release();
      await db.sql`UPDATE task_runs SET status = 'CANCELLED' WHERE run_id = ${runId}`;
    }
  });

  it('aborts a superseded attempt within a heartbeat and discards its result', async () => {
    const runId = await run(['hang']);
    const id = `${runId}:hang`;
    await waitStatus(id, 'RUNNING');
    // As the reaper then the dispatcher would: the attempt is re-queued under a new number.
    await db.sql`UPDATE task_runs SET status = 'QUEUED', attempt = 2, worker_id = NULL WHERE id = ${id}`;
    await waitFor(() => shared.worker.heldCount === 0, {
      timeoutMs: 2000,
      message: 'the attempt to be aborted',
    });
    expect(await row(db.sql, id)).toMatchObject({ status: 'QUEUED', attempt: 2, output: null, error: null });
    expect(await eventsOf(redis, streamNames(shared.prefix).results, id)).toEqual([]);
  });
});

describe('claiming', () => {
  it('runs a duplicated TaskQueued once', async () => {
    const runId = await insertRun(db.sql, WF, { queued: ['count'] });
    await publishQueued(shared.bus, WF, runId, ['count']);
    await publishQueued(shared.bus, WF, runId, ['count', 'count']);
    const r = await waitStatus(`${runId}:count`, 'SUCCESS');
    expect(r.output).toBe('1');
    // A stale message (an older attempt) is dropped too.
    await publishQueued(shared.bus, WF, runId, ['count'], 1);
    await waitFor(
      async () => (await redis.xpending(`${streamNames(shared.prefix).work('default')}`, 'worker'))[0] === 0,
    );
    expect(calls.get(`${runId}:count`)).toBe(1);
  });

  /** A handler that takes `ms` and counts how many of its calls run at once (`peak`). */
  function concurrencyProbe(ms: number) {
    const probe = {
      running: 0,
      peak: 0,
      handler: async () => {
        probe.running += 1;
        probe.peak = Math.max(probe.peak, probe.running);
        await new Promise((resolve) => setTimeout(resolve, ms));
        probe.running -= 1;
        return probe.peak;
      },
    };
    return probe;
  }

  /** Starts `n` runs of the one task `taskId` on `bus`; returns their ids. */
  async function queueRuns(bus: Bus, taskId: string, n: number): Promise<string[]> {
    const runIds: string[] = [];
    for (let i = 0; i < n; i++) {
      const runId = await insertRun(db.sql, WF, { queued: [taskId] });
      runIds.push(runId);
      await publishQueued(bus, WF, runId, [taskId]);
    }
    return runIds;
  }

  it('never runs more attempts at once than its concurrency', async () => {
    const probe = concurrencyProbe(100);
    const { bus } = await startTestWorker({ concurrency: 2, handlers: { count: probe.handler } });
    const runIds = await queueRuns(bus, 'count', 6);
    for (const runId of runIds) await waitStatus(`${runId}:count`, 'SUCCESS');
    expect(probe.peak).toBe(2);
  });

  it('keeps the slot of a timed-out handler that ignores its signal until the handler returns', async () => {
    const probe = concurrencyProbe(400);
    const { bus } = await startTestWorker({ concurrency: 1, handlers: { stubborn: probe.handler } });
    const runIds = await queueRuns(bus, 'stubborn', 3);
    for (const runId of runIds) {
      // Each attempt still fails on its timeout, at once; only the next handler call waits for the slot.
      expect(await waitStatus(`${runId}:stubborn`, 'FAILED')).toMatchObject({
        error: 'timed out after 100ms',
      });
    }
    await waitFor(async () => probe.running === 0, { message: 'the stubborn handlers to return' });
    expect(probe.peak).toBe(1);
  });

  it('warns about a handler that ignores its signal, not about a shell killed on its timeout', async () => {
    const lines: { msg: string; taskId?: string }[] = [];
    const captured = createLogger({
      service: 'worker-test',
      level: 'info',
      destination: { write: (line: string) => lines.push(JSON.parse(line)) },
    });
    const probe = concurrencyProbe(1500);
    const { bus } = await startTestWorker({ logger: captured, handlers: { stubborn: probe.handler } });
    const pidFile = join(tmpdir(), `relay-pid-${randomUUID()}`);
    const shellRun = await insertRun(db.sql, WF, { input: { pidFile }, queued: ['timeout'] });
    await publishQueued(bus, WF, shellRun, ['timeout']);
    const [stubbornRun] = await queueRuns(bus, 'stubborn', 1);
    await waitStatus(`${shellRun}:timeout`, 'FAILED');
    await waitStatus(`${stubbornRun}:stubborn`, 'FAILED');
    await waitFor(async () => probe.running === 0, { message: 'the stubborn handler to return' });
    const ignored = lines.filter((l) => l.msg.startsWith('handler ignored its abort signal'));
    expect(ignored.map((l) => l.taskId)).toEqual(['stubborn']);
    await waitFor(() => lines.some((l) => l.msg.startsWith('handler returned after its attempt ended')));
    rmSync(pidFile, { force: true });
  });

  it('resolves every stop() call only once the worker has stopped', async () => {
    // Not startTestWorker's: its stop() wrapper returns at once on a second call.
    const prefix = uniquePrefix('worker');
    prefixes.push(prefix);
    const worker = createWorker({
      prefix,
      redisUrl: DEFAULT_TEST_REDIS_URL,
      sql: db.sql,
      redis,
      logger,
      heartbeatIntervalMs: 100,
      graceMs: 300,
      env: {},
    });
    const bus = createBus({ redis, redisUrl: DEFAULT_TEST_REDIS_URL, prefix, source: 'dispatcher', logger });
    cleanups.push(() => bus.close());
    await worker.start();
    const runId = await insertRun(db.sql, WF, { queued: ['long'] });
    await db.sql`UPDATE task_runs SET max_attempts = 2 WHERE id = ${`${runId}:long`}`;
    await publishQueued(bus, WF, runId, ['long']);
    await waitStatus(`${runId}:long`, 'RUNNING');
    const first = worker.stop();
    await worker.stop();
    // The second call waited out the grace and the hand-back, as the first did.
    expect(worker.heldCount).toBe(0);
    expect(await row(db.sql, `${runId}:long`)).toMatchObject({ status: 'READY' });
    await first;
  });

  it('hands a long task back as READY with TaskReady on stop', async () => {
    const { worker, bus, prefix } = await startTestWorker({ graceMs: 100 });
    const runId = await insertRun(db.sql, WF, { queued: ['long', 'noop'] });
    await db.sql`UPDATE task_runs SET max_attempts = 2 WHERE id = ${`${runId}:long`}`;
    await publishQueued(bus, WF, runId, ['long', 'noop']);
    await waitStatus(`${runId}:long`, 'RUNNING');
    await waitStatus(`${runId}:noop`, 'SUCCESS');
    await worker.stop();
    expect(await row(db.sql, `${runId}:long`)).toMatchObject({
      status: 'READY',
      worker_id: null,
      attempt: 1,
    });
    const ready = await eventsOf(redis, streamNames(prefix).ready, `${runId}:long`);
    expect(ready.map((e) => [e.type, e.data])).toEqual([
      ['TaskReady', { runId, taskId: 'long', taskRunId: `${runId}:long`, queue: 'default' }],
    ]);
    expect(await eventsOf(redis, streamNames(prefix).results, `${runId}:long`)).toEqual([]);
  });

  it('fails the last attempt it hands back, as the reaper does a lost one, with TaskFailed', async () => {
    const { worker, bus, prefix } = await startTestWorker({ graceMs: 100 });
    const runId = await insertRun(db.sql, WF, { queued: ['long'] });
    await publishQueued(bus, WF, runId, ['long']);
    await waitStatus(`${runId}:long`, 'RUNNING');
    await worker.stop();
    const error = 'worker stopped before the attempt finished (attempt 1 of 1, handed back at shutdown)';
    expect(await row(db.sql, `${runId}:long`)).toMatchObject({ status: 'FAILED', attempt: 1, error });
    const [history] = await db.sql`
      SELECT status, error FROM task_attempts WHERE task_run_id = ${`${runId}:long`}`;
    expect(history).toEqual({ status: 'HANDED_BACK', error });
    const results = await eventsOf(redis, streamNames(prefix).results, `${runId}:long`);
    expect(results.map((e) => [e.type, e.data])).toEqual([
      [
        'TaskFailed',
        { runId, taskId: 'long', taskRunId: `${runId}:long`, attempt: 1, error, retryable: true },
      ],
    ]);
    expect(await eventsOf(redis, streamNames(prefix).ready, `${runId}:long`)).toEqual([]);
  });
});

describe('options', () => {
  it('reads only the variables of options not given: a bad value it would not use cannot stop it', () => {
    const env = {
      DATABASE_URL: 'mysql://nope',
      LOG_LEVEL: 'warning',
      HEALTH_PORT: 'abc',
      RELAY_WORKER_CONCURRENCY: '0',
      RELAY_PREFIX: 'bad prefix',
    };
    expect(() =>
      createWorker({
        env,
        sql: db.sql,
        logger,
        concurrency: 5,
        prefix: 'p',
        redisUrl: DEFAULT_TEST_REDIS_URL,
      }),
    ).not.toThrow();
    expect(() => createWorker({ env: { DATABASE_URL: 'mysql://nope' }, logger })).toThrow(/DATABASE_URL/);
  });

  it.each([
    ['a queue name with capitals', { queues: ['Payments'] }, 'queues: invalid queue name "Payments"'],
    ['a queue name with a space', { queues: ['a b'] }, 'queues: invalid queue name "a b"'],
    ['concurrency 0', { concurrency: 0 }, 'concurrency: expected an integer from 1 to 10000, got 0'],
    ['heartbeatIntervalMs 0', { heartbeatIntervalMs: 0 }, 'heartbeatIntervalMs: expected an integer from 1'],
    ['graceMs -5', { graceMs: -5 }, 'graceMs: expected an integer from 0 to 3600000, got -5'],
    ['maxOutputBytes 0', { maxOutputBytes: 0 }, 'maxOutputBytes: expected an integer from 1'],
    ['claimIdleMs 1.5', { claimIdleMs: 1.5 }, 'claimIdleMs: expected an integer from 100'],
    [
      'definitionCacheTasks 0',
      { definitionCacheTasks: 0 },
      'definitionCacheTasks: expected an integer from 1 to 100000000, got 0',
    ],
    [
      'a handler name no task type can have',
      { handlers: { 'bad name!': async () => null } },
      'handlers: invalid handler name "bad name!"',
    ],
    [
      'a handler that is not a function',
      { handlers: { x: 'nope' as unknown as Handler } },
      'handlers.x: expected a function, got string',
    ],
  ] as [string, Partial<WorkerOptions>, string][])('throws a RangeError for %s', (_label, opts, message) => {
    expect(() => createWorker({ env: {}, logger, ...opts })).toThrow(RangeError);
    expect(() => createWorker({ env: {}, logger, ...opts })).toThrow(message);
  });

  it('starts the stock service with a heartbeat interval above the default timeout', async () => {
    const prefix = uniquePrefix('worker');
    prefixes.push(prefix);
    const config = loadWorkerConfig({
      RELAY_HEARTBEAT_INTERVAL_MS: '60000',
      RELAY_HEARTBEAT_TIMEOUT_MS: '120000',
      RELAY_PREFIX: prefix,
      REDIS_URL: DEFAULT_TEST_REDIS_URL,
    });
    const service = await startWorker(config, { logger, sql: db.sql, redis });
    expect(service.worker.heldCount).toBe(0);
    await service.stop();
  });

  it('answers /readyz 503 draining while the stock service drains its running tasks', async () => {
    const prefix = uniquePrefix('worker');
    prefixes.push(prefix);
    const config = loadWorkerConfig({
      RELAY_PREFIX: prefix,
      REDIS_URL: DEFAULT_TEST_REDIS_URL,
      RELAY_WORKER_GRACE_MS: '500',
      HEALTH_PORT: '0',
    });
    const service = await startWorker(config, { logger, sql: db.sql, redis });
    const readyz = `http://127.0.0.1:${service.healthPort}/readyz`;
    expect((await fetch(readyz)).status).toBe(200);
    const bus = createBus({ redis, redisUrl: DEFAULT_TEST_REDIS_URL, prefix, source: 'dispatcher', logger });
    cleanups.push(() => bus.close());
    const runId = await insertRun(db.sql, WF, { queued: ['long'] });
    await db.sql`UPDATE task_runs SET max_attempts = 2 WHERE id = ${`${runId}:long`}`;
    await publishQueued(bus, WF, runId, ['long']);
    await waitStatus(`${runId}:long`, 'RUNNING');
    const stopped = service.stop();
    const res = await fetch(readyz);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'draining' });
    await stopped;
  });

  it('checks a given heartbeat interval against RELAY_HEARTBEAT_TIMEOUT_MS', () => {
    expect(() => createWorker({ env: {}, logger, heartbeatIntervalMs: 60_000 })).toThrow(
      /RELAY_HEARTBEAT_TIMEOUT_MS: expected more than RELAY_HEARTBEAT_INTERVAL_MS \(60000\)/,
    );
    expect(() =>
      createWorker({ env: { RELAY_HEARTBEAT_TIMEOUT_MS: '90000' }, logger, heartbeatIntervalMs: 60_000 }),
    ).not.toThrow();
  });

  it('takes handlers that declare their input or return nothing (types only)', () => {
    interface Receipt {
      id: string;
    }
    // An interface has no index signature: it is not a JsonValue to TypeScript, and was refused.
    interface Charge {
      amount: number;
      currency?: string;
    }
    const refund: Handler<Charge, Receipt> = async (input) => ({ id: `${input.amount}` });
    const worker = createWorker({
      env: {},
      logger,
      handlers: {
        charge: async (input: { amount: number }): Promise<Receipt> => ({ id: String(input.amount) }),
        capture: async (input: Charge) => ({ id: input.currency ?? 'eur' }),
        refund,
        notify: async (_input, ctx) => {
          ctx.logger.info('sent');
        },
        sync: (input) => input,
      },
    });
    expect(worker.heldCount).toBe(0);
  });
});

describe('metrics', () => {
  it('counts attempts by queue and outcome, times handlers, and gauges what it holds', async () => {
    const registry = createMetricsRegistry('worker');
    const { bus } = await startTestWorker({ registry });
    const runId = await insertRun(db.sql, WF, { queued: ['noop', 'permanent'] });
    await publishQueued(bus, WF, runId, ['noop', 'permanent']);
    await waitStatus(`${runId}:noop`, 'SUCCESS');
    await waitStatus(`${runId}:permanent`, 'FAILED');
    // One series' value, whatever the order of its labels (the registry adds service="worker").
    const series = (name: string, labels: string, value: string) =>
      new RegExp(
        `${name}\\{${labels
          .split(',')
          .map((l) => `(?=[^}]*${l})`)
          .join('')}[^}]*\\} ${value}\\n`,
      );
    await waitFor(
      async () =>
        series('relay_worker_attempts_total', 'queue="default",outcome="failed"', '1').test(
          await registry.metrics(),
        ),
      { message: 'the failure to be counted' },
    );
    const text = await registry.metrics();
    expect(text).toMatch(series('relay_worker_attempts_total', 'queue="default",outcome="success"', '1'));
    expect(text).toMatch(
      series('relay_worker_handler_duration_seconds_count', 'queue="default",result="ok"', '1'),
    );
    expect(text).toMatch(
      series('relay_worker_handler_duration_seconds_count', 'queue="default",result="error"', '1'),
    );
    expect(text).toMatch(series('relay_worker_attempts_held', '', '0'));
    expect(text).toMatch(series('relay_worker_handlers_running', '', '0'));
    expect(text).not.toContain(runId);
  });
});

describe('result writes', () => {
  it('cuts rows into groups by size, in order, a big row alone', () => {
    const sizes = [4, 4, 4, 9, 1, 12, 2];
    expect(groupsBySize(sizes, (n) => n, 10)).toEqual([[4, 4], [4], [9, 1], [12], [2]]);
    expect(groupsBySize([], (n: number) => n, 10)).toEqual([]);
  });

  it('writes a batch of big results in several statements of one transaction, every row', async () => {
    const repo = createWorkerRepository(db.sql);
    const tasks = ['noop', 'nap', 'hello', 'json', 'fails', 'env', 'long', 'count', 'big', 'hang'];
    const runId = await insertRun(db.sql, WF, { queued: tasks });
    const keys = tasks.map((t) => ({ id: `${runId}:${t}`, attempt: 1 }));
    expect(await repo.claimTaskRuns('w-big', keys)).toHaveLength(10);
    // 10 inputs of 300,000 characters: about 3 MB, over MAX_KEYED_JSON_LENGTH (1 MiB) in one statement.
    const input = JSON.stringify({ blob: 'z'.repeat(300_000) });
    expect(10 * input.length).toBeGreaterThan(2 * MAX_KEYED_JSON_LENGTH);
    const succeeded = await repo.completeSucceeded(
      'w-big',
      keys.slice(0, 6).map((k, i) => ({ ...k, output: String(i), input })),
    );
    const failed = await repo.completeFailed(
      'w-big',
      keys.slice(6).map((k) => ({ ...k, error: 'no', input, retryable: true })),
    );
    expect([...succeeded, ...failed].sort()).toEqual(keys.map((k) => k.id).sort());
    const rows = await db.sql<{ status: string; n: number }[]>`
      SELECT status, count(*)::int AS n FROM task_runs
      WHERE run_id = ${runId} AND length(input ->> 'blob') = 300000 GROUP BY status ORDER BY status`;
    expect(rows).toEqual([
      { status: 'FAILED', n: 4 },
      { status: 'SUCCESS', n: 6 },
    ]);
  });
});
