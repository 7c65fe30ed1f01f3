import { checkDatabase, createKeyedSql, createSql, type Sql } from '@relay/db';
import {
  checkRedis,
  closeRedis,
  createLogger,
  createMetricsRegistry,
  createRedis,
  instanceId,
  type Logger,
  type Redis,
  type Registry,
  startHealthServer,
} from '@relay/runtime';
import { queuesOf, type WorkerConfig } from './config.js';
import type { AnyHandler } from './types.js';
import { createWorker, type Worker } from './worker.js';

/** Clients a caller (a test, main.ts) may hand in; whatever is missing is created and owned. */
export interface WorkerServiceDeps {
  logger?: Logger;
  sql?: Sql;
  redis?: Redis;
  registry?: Registry;
  /** Worker id (consumer name); default instanceId('worker'). */
  workerId?: string;
  /** Extra handlers besides the built-ins (the stock service has none). */
  handlers?: Record<string, AnyHandler>;
}

/** A running worker service. */
export interface RunningWorker {
  readonly healthPort: number;
  readonly worker: Worker;
  /** Graceful stop (see Worker.stop), then closes the health server and what it created. */
  stop(): Promise<void>;
}

/** Starts the stock worker: the built-in handlers on RELAY_WORKER_QUEUES, plus the health server. */
export async function startWorker(
  config: WorkerConfig,
  deps: WorkerServiceDeps = {},
): Promise<RunningWorker> {
  const workerId = deps.workerId ?? instanceId('worker');
  const logger =
    deps.logger ?? createLogger({ service: 'worker', level: config.LOG_LEVEL, instance: workerId });
  const sql = deps.sql ?? createSql(config.DATABASE_URL, { applicationName: 'relay-worker' });
  const keyedSql = deps.sql ?? createKeyedSql(config.DATABASE_URL, { applicationName: 'relay-worker' });
  const redis = deps.redis ?? createRedis(config.REDIS_URL, { logger, name: 'worker' });
  const registry = deps.registry ?? createMetricsRegistry('worker');
  const worker = createWorker({
    queues: queuesOf(config),
    handlers: deps.handlers,
    concurrency: config.RELAY_WORKER_CONCURRENCY,
    redisUrl: config.REDIS_URL,
    prefix: config.RELAY_PREFIX,
    heartbeatIntervalMs: config.RELAY_HEARTBEAT_INTERVAL_MS,
    graceMs: config.RELAY_WORKER_GRACE_MS,
    maxOutputBytes: config.RELAY_MAX_OUTPUT_BYTES,
    claimIdleMs: config.RELAY_WORKER_CLAIM_IDLE_MS,
    definitionCacheTasks: config.RELAY_WORKER_DEFINITION_CACHE_TASKS,
    streamMaxLen: config.RELAY_STREAM_MAXLEN,
    logger,
    workerId,
    sql,
    keyedSql,
    redis,
    registry,
    // Every default is given above; the timeout is only read to check the interval against it.
    env: { RELAY_HEARTBEAT_TIMEOUT_MS: String(config.RELAY_HEARTBEAT_TIMEOUT_MS) },
  });
  const health = await startHealthServer({
    port: config.HEALTH_PORT,
    logger,
    registry,
    checks: { postgres: () => checkDatabase(sql), redis: () => checkRedis(redis) },
  });
  await worker.start();
  return {
    healthPort: health.port,
    worker,
    async stop() {
      health.drain();
      await worker.stop();
      await health.close();
      if (!deps.redis) await closeRedis(redis);
      if (!deps.sql) await Promise.all([sql.end({ timeout: 5 }), keyedSql.end({ timeout: 5 })]);
    },
  };
}
