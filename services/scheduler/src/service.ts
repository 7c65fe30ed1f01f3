import { createBus } from '@relay/bus';
import { GROUPS, streamNames } from '@relay/contracts';
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
import type { SchedulerConfig } from './config.js';
import { startCronLoop } from './cron.js';
import { createDefinitionCache } from './definitions.js';
import { createSchedulerMetrics } from './metrics.js';
import { createSchedulerRepository } from './repository.js';
import { createBatchRouter } from './router.js';

/** Clients and knobs a caller (a test, main.ts) may hand in; whatever is missing is created and owned. */
export interface SchedulerDeps {
  logger?: Logger;
  sql?: Sql;
  redis?: Redis;
  registry?: Registry;
  /** Consumer name; default instanceId('scheduler'). */
  consumer?: string;
  random?: () => number;
}

/** A running scheduler. */
export interface RunningScheduler {
  /** Port of the health/metrics server. */
  readonly healthPort: number;
  /** Finishes the in-flight batch, stops consuming, closes what it created. */
  stop(): Promise<void>;
}

/** Starts the scheduler: consumer group `scheduler` on P:runs and P:results, the on.schedule loop, and the health server. */
export async function startScheduler(
  config: SchedulerConfig,
  deps: SchedulerDeps = {},
): Promise<RunningScheduler> {
  const consumerName = deps.consumer ?? instanceId('scheduler');
  const logger =
    deps.logger ?? createLogger({ service: 'scheduler', level: config.LOG_LEVEL, instance: consumerName });
  const sql = deps.sql ?? createSql(config.DATABASE_URL, { applicationName: 'relay-scheduler' });
  const keyed = deps.sql ?? createKeyedSql(config.DATABASE_URL, { applicationName: 'relay-scheduler' });
  const redis = deps.redis ?? createRedis(config.REDIS_URL, { logger, name: 'scheduler' });
  const registry = deps.registry ?? createMetricsRegistry('scheduler');

  const repo = createSchedulerRepository(sql, { keyed });
  const definitions = createDefinitionCache((keys) => repo.loadDefinitions(keys), {
    maxTasks: config.SCHEDULER_DEFINITION_CACHE_TASKS,
  });
  const metrics = createSchedulerMetrics(registry);
  const bus = createBus({
    redis,
    redisUrl: config.REDIS_URL,
    prefix: config.RELAY_PREFIX,
    source: 'scheduler',
    logger,
    maxLen: config.RELAY_STREAM_MAXLEN,
  });
  const names = streamNames(config.RELAY_PREFIX);
  const handler = createBatchRouter(
    { repo, definitions, bus, logger, random: deps.random ?? Math.random },
    metrics,
  );
  const health = await startHealthServer({
    port: config.HEALTH_PORT,
    logger,
    registry,
    checks: { postgres: () => checkDatabase(sql), redis: () => checkRedis(redis) },
  });
  const consumer = bus.consume({
    streams: [names.runs, names.results],
    group: GROUPS.scheduler,
    consumer: consumerName,
    handler,
    count: config.SCHEDULER_BATCH_SIZE,
    claimIdleMs: config.SCHEDULER_CLAIM_IDLE_MS,
  });
  const cron = startCronLoop({
    repo,
    bus,
    logger,
    catchUpMs: config.SCHEDULER_CRON_CATCHUP_MS,
    reloadMs: config.SCHEDULER_CRON_RELOAD_MS,
  });
  logger.info({ prefix: config.RELAY_PREFIX, healthPort: health.port }, 'scheduler started');

  return {
    healthPort: health.port,
    async stop() {
      health.drain();
      await cron.stop();
      await consumer.stop();
      await bus.close();
      await health.close();
      if (!deps.redis) await closeRedis(redis);
      if (!deps.sql) await Promise.all([sql.end({ timeout: 5 }), keyed.end({ timeout: 5 })]);
      logger.info('scheduler stopped');
    },
  };
}
