import { type Bus, type Consumer, createBus } from '@relay/bus';
import { GROUPS, streamNames } from '@relay/contracts';
import { createKeyedSql, createSql, type Sql } from '@relay/db';
import {
  closeRedis,
  createLogger,
  createRedis,
  type Env,
  instanceId,
  type Logger,
  MAX_TIMER_MS,
  type Redis,
  type Registry,
} from '@relay/runtime';
import { HANDLER_NAME_PATTERN, ID_PATTERN } from '@relay/workflow';
import { builtinHandlers } from './builtins/index.js';
import { Completer, type Completion } from './completer.js';
import { loadWorkerConfig, WORKER_LIMITS } from './config.js';
import { Cancellation, runAttempt } from './execute.js';
import { handleTaskAbortRequested } from './handlers/task-abort-requested.js';
import { handleTaskQueued } from './handlers/task-queued.js';
import { createWorkerMetrics } from './metrics.js';
import { DefinitionCache, type PreparedTask } from './prepare.js';
import { createWorkerRepository } from './repository.js';
import type { AnyHandler, ClaimedTask, TaskContext } from './types.js';

/** Options of {@link createWorker}; what is not given comes from the environment (SPEC section 2). */
export interface WorkerOptions {
  /** Queues to take work from; default RELAY_WORKER_QUEUES, else `['default']`. */
  queues?: string[];
  /** Custom handlers by task type; they override built-ins of the same name. */
  handlers?: Record<string, AnyHandler>;
  /** Attempts run at once; default RELAY_WORKER_CONCURRENCY, else 10. */
  concurrency?: number;
  databaseUrl?: string;
  redisUrl?: string;
  prefix?: string;
  heartbeatIntervalMs?: number;
  logger?: Logger;
  /** Stable id of this worker (consumer name, task_runs.worker_id); default instanceId('worker'). */
  workerId?: string;
  /** How long stop() lets running attempts finish before handing them back; default 10 s. */
  graceMs?: number;
  /** Largest output (JSON bytes); default RELAY_MAX_OUTPUT_BYTES, else 1 MiB. */
  maxOutputBytes?: number;
  /** Idle time after which a dead worker's unacked work messages are taken over; default 30 s. */
  claimIdleMs?: number;
  /** Tasks of pinned definitions kept in memory; default RELAY_WORKER_DEFINITION_CACHE_TASKS, else 100,000. */
  definitionCacheTasks?: number;
  /** Approximate bound on each stream written (XADD MAXLEN ~); default RELAY_STREAM_MAXLEN, else 100,000. */
  streamMaxLen?: number;
  /** Clients to use instead of creating (and owning) them. */
  sql?: Sql;
  /** Pool for small keyed batches (@relay/db's createKeyedSql); default `sql` when that is given, else one of its own. */
  keyedSql?: Sql;
  redis?: Redis;
  /**
   * Environment the defaults are read from; default process.env. Only the variables of options not given
   * are read (and validated): `sql` or `databaseUrl` replaces DATABASE_URL, `logger` LOG_LEVEL, and so on.
   */
  env?: Env;
  /** Called with a shell task's pid once spawned (diagnostics and tests). */
  onShellSpawn?: (pid: number, ctx: TaskContext) => void;
  /**
   * Prometheus registry to register the worker's series on (relay_worker_attempts_total by queue and
   * outcome, relay_worker_handler_duration_seconds, held / running / outlived gauges); none by default.
   */
  registry?: Registry;
}

/** A worker: claims TaskQueued work, runs handlers, writes results, heartbeats, hands back on stop. */
export interface Worker {
  readonly workerId: string;
  /** Attempts held now (claimed and not yet written). */
  readonly heldCount: number;
  /** Starts consuming; resolves once the consumers are started. */
  start(): Promise<void>;
  /**
   * Graceful stop: stops claiming, lets running attempts finish within graceMs, hands the rest back
   * (RUNNING -> READY + TaskReady), aborts their handlers, writes pending results, closes owned clients.
   */
  stop(): Promise<void>;
}

interface Held {
  claim: ClaimedTask;
  cancel: Cancellation;
  /** Child logger with the attempt's ids, created on first use (see logOf). */
  log: Logger | undefined;
  /** The handler has settled (its result is being written). */
  finished: boolean;
  /** Handed back on shutdown: the result is discarded. */
  handedBack: boolean;
  done: Promise<void>;
}

/** How long after its attempt ended a handler may take to settle before the worker warns that it ignored its signal. */
const OUTLIVE_WARN_MS = 1000;

/** Creates a worker (not started). */
export function createWorker(opts: WorkerOptions = {}): Worker {
  checkOptions(opts);
  const env = loadWorkerConfig(defaultsEnv(opts));
  const workerId = opts.workerId ?? instanceId('worker');
  const logger = opts.logger ?? createLogger({ service: 'worker', level: env.LOG_LEVEL, instance: workerId });
  const queues = opts.queues ?? [...new Set(env.RELAY_WORKER_QUEUES.split(','))];
  const concurrency = opts.concurrency ?? env.RELAY_WORKER_CONCURRENCY;
  const prefix = opts.prefix ?? env.RELAY_PREFIX;
  const redisUrl = opts.redisUrl ?? env.REDIS_URL;
  const heartbeatIntervalMs = opts.heartbeatIntervalMs ?? env.RELAY_HEARTBEAT_INTERVAL_MS;
  const graceMs = opts.graceMs ?? env.RELAY_WORKER_GRACE_MS;
  const maxOutputBytes = opts.maxOutputBytes ?? env.RELAY_MAX_OUTPUT_BYTES;
  if (queues.length === 0) throw new RangeError('queues: expected at least one queue');
  const handlers: Record<string, AnyHandler> = {
    ...builtinHandlers({ maxStdoutBytes: maxOutputBytes, onSpawn: opts.onShellSpawn }),
    ...opts.handlers,
  };

  const held = new Map<string, Held>();
  const waiters: (() => void)[] = [];
  let executing = 0;
  let active = 0;
  /** Handlers still running after their attempt ended (they ignored its signal): each keeps its slot. */
  let outlived = 0;
  let sql: Sql | undefined;
  let keyed: Sql | undefined;
  let redis: Redis | undefined;
  let bus: Bus | undefined;
  let completer: Completer | undefined;
  let consumer: Consumer | undefined;
  let control: Consumer | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let heartbeating: Promise<void> = Promise.resolve();
  let state: 'new' | 'running' | 'stopping' | 'stopped' = 'new';
  let stopping: Promise<void> | undefined;
  const metrics = opts.registry
    ? createWorkerMetrics(opts.registry, {
        held: () => held.size,
        running: () => executing,
        outlived: () => outlived,
      })
    : undefined;

  async function acquireSlot(): Promise<void> {
    if (executing < concurrency) {
      executing += 1;
      return;
    }
    await new Promise<void>((resolve) => waiters.push(resolve));
  }

  function releaseSlot(): void {
    const next = waiters.shift();
    if (next) next();
    else executing -= 1;
  }

  /** The attempt's child logger; made on first use, since most attempts of a busy worker never log. */
  function logOf(h: Held): Logger {
    h.log ??= logger.child({ runId: h.claim.runId, taskId: h.claim.taskId, attempt: h.claim.attempt });
    return h.log;
  }

  function hold(claims: ClaimedTask[]): void {
    const info = logger.isLevelEnabled('info');
    for (const claim of claims) {
      const h: Held = {
        claim,
        cancel: new Cancellation(),
        log: undefined,
        finished: false,
        handedBack: false,
        done: Promise.resolve(),
      };
      held.set(claim.id, h);
      active += 1;
      if (info) logOf(h).info({ taskRunId: claim.id }, 'task claimed');
    }
  }

  /**
   * The attempt's capacity is free again: its result is written or discarded. Held until then, not only
   * while the handler runs, so results waiting for a slow write (big outputs) cannot pile up without bound
   * while new claims keep coming.
   */
  function release(): void {
    active -= 1;
    consumer?.wake();
  }

  /**
   * Runs an attempt and writes its result. Whatever happens, the attempt ends here: it leaves `held` (so
   * a bug can at worst stop its heartbeats and let the reaper fail it for a retry, never hold it forever) and
   * frees its capacity.
   */
  async function execute(h: Held, p: PreparedTask, completer: Completer): Promise<void> {
    try {
      const completion = await attempt(h, p);
      h.finished = true;
      if (!h.handedBack) await completer.add(completion);
    } finally {
      h.finished = true;
      held.delete(p.claim.id);
      release();
    }
  }

  /** Runs the handler of a prepared attempt (or fails it when it cannot run); returns what to write. */
  async function attempt(h: Held, p: PreparedTask): Promise<Completion> {
    const { claim } = p;
    let inputText: string | null = null;
    let result: { ok: true; output: string } | { ok: false; error: string; retryable: boolean };
    if (!p.ok) {
      result = { ok: false, error: p.error, retryable: p.retryable ?? false };
    } else {
      inputText = storableJson(p.input);
      const handler = Object.hasOwn(handlers, p.task.type) ? handlers[p.task.type] : undefined;
      if (!handler) {
        // Retryable: in a pool where only some workers register the type, another attempt may land on
        // one that does (and a worker deployed with the handler later can pick it up).
        result = {
          ok: false,
          error: `no handler for type "${p.task.type}" on queue "${claim.queue}" (every worker of a queue must register its task types: give custom handlers a queue of their own)`,
          retryable: true,
        };
      } else {
        await acquireSlot();
        // The slot is the handler's until it returns: `concurrency` bounds live handler calls, also when
        // a timed-out or cancelled one ignores its signal and runs on.
        let handlerSettled = false;
        let outliving = false;
        let warning: NodeJS.Timeout | undefined;
        let warned = false;
        const onSettled = () => {
          handlerSettled = true;
          releaseSlot();
          if (!outliving) return;
          outlived -= 1;
          clearTimeout(warning);
          if (warned) logOf(h).info('handler returned after its attempt ended; its slot is free again');
          consumer?.wake();
        };
        const started = performance.now();
        try {
          result = await runAttempt({
            handler,
            input: p.input,
            ctx: {
              runId: claim.runId,
              taskId: claim.taskId,
              taskRunId: claim.id,
              attempt: claim.attempt,
              workflowId: claim.workflowId,
              queue: claim.queue,
              // An accessor: the child logger is only made for a handler that uses it.
              get logger() {
                return logOf(h);
              },
            },
            timeoutMs: p.task.timeoutMs,
            cancel: h.cancel,
            maxOutputBytes,
            onSettled,
          });
        } catch (err) {
          if (!handlerSettled) onSettled();
          throw err;
        }
        metrics?.handlerSeconds(claim.queue, result.ok, (performance.now() - started) / 1000);
        if (!handlerSettled) {
          outliving = true;
          outlived += 1;
          // A handler that honours its signal settles within moments (the shell's process group is
          // killed, then its pipes close): only one still running after OUTLIVE_WARN_MS ignored it.
          const error = result.ok ? undefined : result.error;
          warning = setTimeout(() => {
            warned = true;
            logOf(h).warn(
              { error, afterMs: OUTLIVE_WARN_MS },
              'handler ignored its abort signal and still runs: it keeps its concurrency slot until it returns',
            );
          }, OUTLIVE_WARN_MS);
          warning.unref();
        }
      }
    }
    return result.ok
      ? { claim, ok: true, output: result.output, input: inputText }
      : { claim, ok: false, error: result.error, retryable: result.retryable, input: inputText };
  }

  function abort(ids: readonly string[], reason: string): number {
    let n = 0;
    for (const id of ids) {
      const h = held.get(id);
      if (!h || h.finished || h.cancel.aborted) continue;
      logOf(h).info({ reason }, 'task aborted');
      h.cancel.abort(new Error(reason));
      n += 1;
    }
    return n;
  }

  async function beat(repo: ReturnType<typeof createWorkerRepository>): Promise<void> {
    const mine = [...held.values()].filter((h) => !h.handedBack);
    if (mine.length === 0) return;
    try {
      const alive = await repo.heartbeat(
        workerId,
        mine.map((h) => ({ id: h.claim.id, attempt: h.claim.attempt })),
      );
      // Not ours any more (reaped as lost, cancelled): stop the work, its result will be discarded.
      const lost = mine.filter((h) => !alive.has(h.claim.id) && !h.finished).map((h) => h.claim.id);
      if (lost.length > 0) abort(lost, 'SUPERSEDED');
    } catch (err) {
      logger.error({ err }, 'heartbeat failed');
    }
  }

  return {
    workerId,
    get heldCount() {
      return held.size;
    },

    async start() {
      if (state !== 'new') throw new Error(`worker ${workerId} cannot start: it is ${state}`);
      state = 'running';
      const databaseUrl = opts.databaseUrl ?? env.DATABASE_URL;
      sql = opts.sql ?? createSql(databaseUrl, { applicationName: 'relay-worker' });
      keyed = opts.keyedSql ?? opts.sql ?? createKeyedSql(databaseUrl, { applicationName: 'relay-worker' });
      redis = opts.redis ?? createRedis(redisUrl, { logger, name: 'worker' });
      const repo = createWorkerRepository(sql, keyed);
      const b = createBus({
        redis,
        redisUrl,
        prefix,
        source: 'worker',
        logger,
        maxLen: opts.streamMaxLen ?? env.RELAY_STREAM_MAXLEN,
      });
      bus = b;
      const names = streamNames(prefix);
      const results = new Completer({
        repo,
        bus: b,
        workerId,
        logger,
        onOutcome: metrics && ((claim, outcome) => metrics.ended(claim.queue, outcome)),
      });
      completer = results;
      const definitions = new DefinitionCache(
        repo,
        opts.definitionCacheTasks ?? env.RELAY_WORKER_DEFINITION_CACHE_TASKS,
      );

      control = b.broadcast({
        stream: names.control,
        handler: async (events) => {
          for (const event of events) {
            if (event.type === 'TaskAbortRequested') handleTaskAbortRequested(event, { abort });
          }
        },
      });
      consumer = b.consume({
        streams: queues.map((q) => names.work(q)),
        group: GROUPS.worker,
        consumer: workerId,
        count: concurrency,
        claimIdleMs: opts.claimIdleMs ?? env.RELAY_WORKER_CLAIM_IDLE_MS,
        capacity: () => (state === 'running' ? Math.max(0, concurrency - active - outlived) : 0),
        handler: async (deliveries) => {
          const events = [];
          for (const d of deliveries) {
            if (d.event.type === 'TaskQueued') events.push(d.event);
            else logger.warn({ type: d.event.type, entry: d.id }, 'unexpected event type ignored');
          }
          await handleTaskQueued(events, {
            repo,
            bus: b,
            definitions,
            workerId,
            logger,
            hold,
            running: () => state === 'running',
            launch: (p) => {
              const h = held.get(p.claim.id);
              if (!h) return;
              h.done = execute(h, p, results).catch((err: unknown) => {
                logOf(h).error({ err }, 'task execution failed');
              });
            },
          });
        },
      });
      heartbeatTimer = setInterval(() => {
        heartbeating = heartbeating.then(() => beat(repo));
      }, heartbeatIntervalMs);
      logger.info({ workerId, queues, concurrency, prefix }, 'worker started');
    },

    stop() {
      // Every call resolves when the worker has stopped (SIGTERM and a shutdown hook may both call it).
      if (stopping) return stopping;
      if (state !== 'running') {
        state = 'stopped';
        return Promise.resolve();
      }
      stopping = stopGracefully();
      return stopping;
    },
  };

  async function stopGracefully(): Promise<void> {
    state = 'stopping';
    await consumer?.stop();
    const deadline = Date.now() + graceMs;
    while (active > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(50, Math.max(0, deadline - Date.now()))));
    }
    const left = [...held.values()].filter((h) => !h.finished);
    if (left.length > 0 && sql && bus) {
      for (const h of left) h.handedBack = true;
      const repo = createWorkerRepository(sql);
      try {
        const moved = await repo.handBackTaskRuns(
          workerId,
          left.map((h) => ({ id: h.claim.id, attempt: h.claim.attempt })),
        );
        if (moved.length > 0) {
          await bus.publish(
            moved.map((r) => {
              const base = { runId: r.runId, taskId: r.taskId, taskRunId: r.id };
              return r.failed
                ? {
                    type: 'TaskFailed' as const,
                    data: { ...base, attempt: r.attempt, error: r.failed.error, retryable: true },
                  }
                : { type: 'TaskReady' as const, data: { ...base, queue: r.queue } };
            }),
          );
        }
        for (const r of moved) metrics?.ended(r.queue, r.failed ? 'failed' : 'handed_back');
        const failed = moved.filter((r) => r.failed).length;
        logger.info({ handedBack: moved.length - failed, failed }, 'running tasks handed back');
      } catch (err) {
        // The reaper fails them as lost once their heartbeats stop, and the scheduler retries them.
        logger.error({ err, tasks: left.length }, 'handing back tasks failed');
      }
      abort(
        left.map((h) => h.claim.id),
        'worker shutting down',
      );
    }
    await Promise.all([...held.values()].map((h) => h.done));
    await completer?.drain();
    clearInterval(heartbeatTimer);
    await heartbeating;
    await control?.stop();
    await bus?.close();
    if (!opts.redis && redis) await closeRedis(redis);
    if (!opts.sql && sql) await sql.end({ timeout: 5 });
    if (!opts.keyedSql && !opts.sql && keyed) await keyed.end({ timeout: 5 });
    state = 'stopped';
    logger.info({ workerId }, 'worker stopped');
  }
}

/**
 * Ranges of the numeric options: those of their environment variables (the worker's own in config.ts;
 * the heartbeat interval and stream length as @relay/runtime's commonEnv bounds them).
 */
const NUMERIC_OPTIONS = {
  ...WORKER_LIMITS,
  heartbeatIntervalMs: { min: 1, max: MAX_TIMER_MS },
  streamMaxLen: { min: 1000, max: 100_000_000 },
} as const;

/** Throws a RangeError naming the first option out of its range, or a queue or handler no task can use. */
function checkOptions(opts: WorkerOptions): void {
  for (const [name, { min, max }] of Object.entries(NUMERIC_OPTIONS)) {
    const value = opts[name as keyof typeof NUMERIC_OPTIONS];
    if (value === undefined) continue;
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new RangeError(`${name}: expected an integer from ${min} to ${max}, got ${String(value)}`);
    }
  }
  for (const queue of opts.queues ?? []) {
    if (typeof queue !== 'string' || !ID_PATTERN.test(queue)) {
      throw new RangeError(
        `queues: invalid queue name ${JSON.stringify(queue)}: must match ${ID_PATTERN.source}, as a task's queue does`,
      );
    }
  }
  for (const [type, handler] of Object.entries(opts.handlers ?? {})) {
    if (!HANDLER_NAME_PATTERN.test(type)) {
      throw new RangeError(
        `handlers: invalid handler name ${JSON.stringify(type)}: must match ${HANDLER_NAME_PATTERN.source}, as a task's type does`,
      );
    }
    if (typeof handler !== 'function') {
      throw new RangeError(
        `handlers.${type}: expected a function, got ${handler === null ? 'null' : typeof handler}`,
      );
    }
  }
}

/** The environment variable each option replaces (read only when the option is not given). */
const REPLACED_VARIABLES: readonly [keyof WorkerOptions, string][] = [
  ['databaseUrl', 'DATABASE_URL'],
  ['sql', 'DATABASE_URL'],
  ['redisUrl', 'REDIS_URL'],
  ['prefix', 'RELAY_PREFIX'],
  ['logger', 'LOG_LEVEL'],
  ['queues', 'RELAY_WORKER_QUEUES'],
  ['concurrency', 'RELAY_WORKER_CONCURRENCY'],
  ['graceMs', 'RELAY_WORKER_GRACE_MS'],
  ['maxOutputBytes', 'RELAY_MAX_OUTPUT_BYTES'],
  ['claimIdleMs', 'RELAY_WORKER_CLAIM_IDLE_MS'],
  ['definitionCacheTasks', 'RELAY_WORKER_DEFINITION_CACHE_TASKS'],
  ['streamMaxLen', 'RELAY_STREAM_MAXLEN'],
];

/**
 * The environment the defaults come from, without the variables that given options replace, so a bad
 * value the worker would never use cannot stop it. HEALTH_PORT belongs to the stock service, not the
 * library. A given heartbeat interval takes its variable's place, so it is still checked against
 * RELAY_HEARTBEAT_TIMEOUT_MS (the reaper's; an interval at or above it makes every task look stalled).
 */
function defaultsEnv(opts: WorkerOptions): Env {
  const env: Record<string, string | undefined> = { ...(opts.env ?? process.env) };
  delete env.HEALTH_PORT;
  for (const [option, variable] of REPLACED_VARIABLES) {
    if (opts[option] !== undefined) delete env[variable];
  }
  if (opts.heartbeatIntervalMs !== undefined) {
    env.RELAY_HEARTBEAT_INTERVAL_MS = String(opts.heartbeatIntervalMs);
  }
  return env;
}

/** The JSON text of a resolved input, or null when JSONB could not hold it (a NUL escape). */
function storableJson(value: unknown): string | null {
  const text = JSON.stringify(value ?? null);
  return text.includes('\\u0000') ? null : text;
}
