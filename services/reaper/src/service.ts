import { createBus } from '@relay/bus';
import { checkDatabase, createSql, type Sql } from '@relay/db';
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
import { Counter } from 'prom-client';
import { registerBacklogMetrics } from './backlog-metrics.js';
import { type ReaperConfig, reaperIntervalMs } from './config.js';
import { reapOnce, Steadiness } from './reap.js';
import { type ReconcileResult, reconcileOnce } from './reconcile.js';
import { createReaperRepository, createReconcileRepository } from './repository.js';
import { type Pruned, pruneOnce } from './retention.js';

/** Clients a caller (a test, main.ts) may hand in; whatever is missing is created and owned. */
export interface ReaperDeps {
  logger?: Logger;
  sql?: Sql;
  redis?: Redis;
  registry?: Registry;
}

/** A running reaper. */
export interface RunningReaper {
  readonly healthPort: number;
  /** Runs one pass now (tests); resolves with the attempts reaped. */
  reapNow(): Promise<number>;
  /** Runs one reconciler sweep now (tests); resolves with what it recovered. */
  reconcileNow(): Promise<ReconcileResult>;
  /** Runs one retention sweep now (tests; with RELAY_RETENTION_DAYS > 0); resolves with what it deleted. */
  pruneNow(): Promise<Pruned>;
  /** Finishes the current pass, stops, closes what it created. */
  stop(): Promise<void>;
}

/**
 * Starts the reaper: a stalled-heartbeat pass every interval (immediately again while batches are full),
 * the reconciler sweep, the retention sweep (with RELAY_RETENTION_DAYS > 0), and the health server.
 */
export async function startReaper(config: ReaperConfig, deps: ReaperDeps = {}): Promise<RunningReaper> {
  const logger =
    deps.logger ??
    createLogger({ service: 'reaper', level: config.LOG_LEVEL, instance: instanceId('reaper') });
  const sql = deps.sql ?? createSql(config.DATABASE_URL, { applicationName: 'relay-reaper' });
  const redis = deps.redis ?? createRedis(config.REDIS_URL, { logger, name: 'reaper' });
  const registry = deps.registry ?? createMetricsRegistry('reaper');
  const bus = createBus({
    redis,
    redisUrl: config.REDIS_URL,
    prefix: config.RELAY_PREFIX,
    source: 'reaper',
    logger,
    maxLen: config.RELAY_STREAM_MAXLEN,
  });
  const reaped = new Counter({
    name: 'relay_reaper_task_runs_reaped_total',
    help: 'Stalled attempts failed by the reaper (worker lost)',
    registers: [registry],
  });
  const reapDeps = {
    repo: createReaperRepository(sql),
    bus,
    logger,
    timeoutMs: config.RELAY_HEARTBEAT_TIMEOUT_MS,
    batchSize: config.RELAY_REAPER_BATCH_SIZE,
  };
  const recovered = new Counter({
    name: 'relay_reconciler_recovered_total',
    help: 'Rows whose lost event the reconciler re-published, by kind',
    labelNames: ['kind'],
    registers: [registry],
  });
  const unfinishable = new Counter({
    name: 'relay_reconciler_unfinishable_runs_total',
    help: 'RUNNING runs found with no task left (no event can finish them), per sweep',
    registers: [registry],
  });
  const reconcileDeps = {
    repo: createReconcileRepository(sql),
    bus,
    redis,
    prefix: config.RELAY_PREFIX,
    logger: logger.child({ loop: 'reconciler' }),
    graceMs: config.RELAY_RECONCILE_GRACE_MS,
  };
  let sweeping: Promise<ReconcileResult | null> = Promise.resolve(null);
  const sweep = (): Promise<ReconcileResult> => {
    const next = sweeping.then(
      () => reconcileOnce(reconcileDeps),
      () => reconcileOnce(reconcileDeps),
    );
    sweeping = next.catch(() => null);
    return next.then((result) => {
      const { unfinishable: stuck, ...kinds } = result;
      const total = Object.values(kinds).reduce((a, b) => a + b, 0);
      for (const [kind, n] of Object.entries(kinds)) if (n > 0) recovered.inc({ kind }, n);
      if (stuck > 0) unfinishable.inc(stuck);
      if (total > 0) reconcileDeps.logger.warn({ ...kinds, total }, 'lost events re-published');
      return result;
    });
  };
  const reconcileTimer = setInterval(() => {
    sweep().catch((err: unknown) => logger.error({ err }, 'reconciling failed'));
  }, config.RELAY_RECONCILE_INTERVAL_MS);

  const intervalMs = reaperIntervalMs(config);
  // Reaps only once the database has answered steadily for a whole heartbeat timeout (see Steadiness).
  const steadiness = new Steadiness(config.RELAY_HEARTBEAT_TIMEOUT_MS, 2 * intervalMs + 1000);
  let wasSteady: boolean | undefined;
  let passing: Promise<number> = Promise.resolve(0);
  const pass = (): Promise<number> => {
    passing = passing.then(
      async () => {
        const startedAt = Date.now();
        const apply = steadiness.steady(startedAt);
        if (apply !== wasSteady) {
          const afterMs = config.RELAY_HEARTBEAT_TIMEOUT_MS;
          if (apply) logger.info('reaping stalled attempts');
          else if (wasSteady === undefined)
            logger.info({ afterMs }, 'reaping starts after one heartbeat timeout');
          else
            logger.warn(
              { afterMs },
              'database was unreachable: reaping resumes once it has answered for one heartbeat timeout (live workers heartbeat again first)',
            );
          wasSteady = apply;
        }
        try {
          const n = await reapOnce({ ...reapDeps, apply });
          steadiness.reached(startedAt, Date.now());
          reaped.inc(n);
          return n;
        } catch (err) {
          steadiness.failed();
          throw err;
        }
      },
      () => 0,
    );
    return passing;
  };
  const timer = setInterval(() => {
    pass().catch((err: unknown) => logger.error({ err }, 'reaping failed'));
  }, intervalMs);

  // Retention (off unless RELAY_RETENTION_DAYS > 0): a sweep at start, then every sweep period.
  const retentionDays = config.RELAY_RETENTION_DAYS;
  const deleted = new Counter({
    name: 'relay_retention_runs_deleted_total',
    help: 'Finished runs deleted past RELAY_RETENTION_DAYS, with their task runs',
    registers: [registry],
  });
  let pruning: Promise<Pruned> = Promise.resolve({ runs: 0, events: 0, ticks: 0 });
  const prune = (): Promise<Pruned> => {
    const next = pruning.then(
      () => pruneOnce(sql, retentionDays, logger),
      () => pruneOnce(sql, retentionDays, logger),
    );
    pruning = next.catch(() => ({ runs: 0, events: 0, ticks: 0 }));
    return next.then((result) => {
      deleted.inc(result.runs);
      return result;
    });
  };
  const pruneInBackground = () => {
    prune().catch((err: unknown) => logger.error({ err }, 'retention sweep failed'));
  };
  const retentionTimers =
    retentionDays > 0
      ? [setTimeout(pruneInBackground, 0), setInterval(pruneInBackground, config.RELAY_RETENTION_SWEEP_MS)]
      : [];

  registerBacklogMetrics(registry, { sql, redis, prefix: config.RELAY_PREFIX, logger });
  const health = await startHealthServer({
    port: config.HEALTH_PORT,
    logger,
    registry,
    checks: { postgres: () => checkDatabase(sql), redis: () => checkRedis(redis) },
  });
  logger.info(
    {
      prefix: config.RELAY_PREFIX,
      intervalMs,
      reconcileIntervalMs: config.RELAY_RECONCILE_INTERVAL_MS,
      reconcileGraceMs: config.RELAY_RECONCILE_GRACE_MS,
      retentionDays: retentionDays > 0 ? retentionDays : 'off',
      healthPort: health.port,
    },
    'reaper started',
  );
  return {
    healthPort: health.port,
    reapNow: pass,
    reconcileNow: sweep,
    pruneNow: prune,
    async stop() {
      health.drain();
      clearInterval(timer);
      clearInterval(reconcileTimer);
      for (const t of retentionTimers) clearTimeout(t);
      await passing.catch(() => 0);
      await sweeping;
      await pruning;
      await bus.close();
      await health.close();
      if (!deps.redis) await closeRedis(redis);
      if (!deps.sql) await sql.end({ timeout: 5 });
      logger.info('reaper stopped');
    },
  };
}
