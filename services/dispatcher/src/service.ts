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
import type { DispatcherConfig } from './config.js';
import { startDelayedPoller } from './delayed-poller.js';
import { type DispatchDeps, dispatchTaskRuns } from './dispatch.js';
import { handleTaskReady, type TaskReadyDelivery } from './handlers/task-ready.js';
import { createDispatcherMetrics } from './metrics.js';
import { createDispatcherRepository } from './repository.js';

/** Clients a caller (a test, main.ts) may hand in; whatever is missing is created and owned. */
export interface DispatcherDeps {
  logger?: Logger;
  sql?: Sql;
  redis?: Redis;
  registry?: Registry;
  /** Consumer name; default instanceId('dispatcher'). */
  consumer?: string;
}

/** A running dispatcher. */
export interface RunningDispatcher {
  readonly healthPort: number;
  /** Finishes the in-flight batch and poll, stops, closes what it created. */
  stop(): Promise<void>;
}

/** Starts the dispatcher: consumer group `dispatcher` on P:ready, the delayed-set poller and the health server. */
export async function startDispatcher(
  config: DispatcherConfig,
  deps: DispatcherDeps = {},
): Promise<RunningDispatcher> {
  const consumerName = deps.consumer ?? instanceId('dispatcher');
  const logger =
    deps.logger ?? createLogger({ service: 'dispatcher', level: config.LOG_LEVEL, instance: consumerName });
  const sql = deps.sql ?? createSql(config.DATABASE_URL, { applicationName: 'relay-dispatcher' });
  const keyed = deps.sql ?? createKeyedSql(config.DATABASE_URL, { applicationName: 'relay-dispatcher' });
  const redis = deps.redis ?? createRedis(config.REDIS_URL, { logger, name: 'dispatcher' });
  const registry = deps.registry ?? createMetricsRegistry('dispatcher');
  const names = streamNames(config.RELAY_PREFIX);

  const repo = createDispatcherRepository(sql, keyed);
  const bus = createBus({
    redis,
    redisUrl: config.REDIS_URL,
    prefix: config.RELAY_PREFIX,
    source: 'dispatcher',
    logger,
    maxLen: config.RELAY_STREAM_MAXLEN,
  });
  const metrics = createDispatcherMetrics(registry, () => redis.zcard(names.delayed));
  let notify: (dueAtMs: number) => void = () => {};
  const dispatchDeps: DispatchDeps = {
    repo,
    bus,
    logger,
    metrics,
    notifyDelayed: (dueAtMs) => notify(dueAtMs),
    now: Date.now,
  };
  const poller = startDelayedPoller({
    delayed: bus.delayed,
    dispatch: (ids) => dispatchTaskRuns(ids, dispatchDeps),
    logger,
    maxSleepMs: config.DISPATCHER_DELAYED_POLL_MS,
  });
  notify = poller.notify;

  const health = await startHealthServer({
    port: config.HEALTH_PORT,
    logger,
    registry,
    checks: { postgres: () => checkDatabase(sql), redis: () => checkRedis(redis) },
  });
  const consumer = bus.consume({
    streams: [names.ready],
    group: GROUPS.dispatcher,
    consumer: consumerName,
    count: config.DISPATCHER_BATCH_SIZE,
    claimIdleMs: config.DISPATCHER_CLAIM_IDLE_MS,
    handler: async (deliveries) => {
      const batch: TaskReadyDelivery[] = [];
      for (const d of deliveries) {
        if (d.event.type === 'TaskReady') batch.push({ event: d.event, deliveries: d.deliveries });
        else logger.warn({ type: d.event.type, entry: d.id }, 'unexpected event type ignored');
      }
      await handleTaskReady(batch, dispatchDeps);
    },
  });
  logger.info({ prefix: config.RELAY_PREFIX, healthPort: health.port }, 'dispatcher started');

  return {
    healthPort: health.port,
    async stop() {
      health.drain();
      await consumer.stop();
      await poller.stop();
      await bus.close();
      await health.close();
      if (!deps.redis) await closeRedis(redis);
      if (!deps.sql) await Promise.all([sql.end({ timeout: 5 }), keyed.end({ timeout: 5 })]);
      logger.info('dispatcher stopped');
    },
  };
}
