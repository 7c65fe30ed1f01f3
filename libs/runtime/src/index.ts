/**
 * @relay/runtime: the I/O shell every service's main.ts is wired from.
 *
 * ```ts
 * const config = exitOnConfigError(() => parseEnv(v.pipe(v.object({ ...commonEnv, ...healthEnv }), checkHeartbeatWindow())));
 * const instance = instanceId('scheduler');
 * const logger = createLogger({ service: 'scheduler', level: config.LOG_LEVEL, instance });
 * installProcessGuards(logger);
 * const redis = createRedis(config.REDIS_URL, { logger, name: 'scheduler' });
 * const health = await startHealthServer({
 *   port: config.HEALTH_PORT, logger, registry: createMetricsRegistry('scheduler'),
 *   checks: { redis: () => checkRedis(redis) },
 * });
 * onShutdown(async () => { await stopConsumers(); await health.close(); await closeRedis(redis); }, { logger, graceMs: 10_000 });
 * ```
 * @module
 */
export {
  checkHeartbeatWindow,
  commonEnv,
  type HeartbeatWindow,
  healthEnv,
  LOG_LEVELS,
  type LogLevel,
  MAX_TIMER_MS,
} from './common-env.js';
export { CONFIG_EXIT_CODE, type Env, type EnvSchema, exitOnConfigError, parseEnv } from './config.js';
export {
  type EnvEntry,
  type EnvIntOptions,
  type EnvStringOptions,
  envBool,
  envEnum,
  envInt,
  envPort,
  envString,
  envUrl,
  SSLMODES,
} from './env-entries.js';
export { CheckTimeoutError, ConfigError, type ConfigIssue, RedisNotReadyError } from './errors.js';
export { FAULT_EXIT_CODE, type FaultTarget, faultPoint, parseFaultTarget } from './fault.js';
export {
  type HealthCheck,
  type HealthServer,
  type HealthServerOptions,
  portError,
  type ReadinessReport,
  runChecks,
  startHealthServer,
  watchStartupReadiness,
} from './health-server.js';
export { CHURNING_SERVICE_SEMI_SPACE_MB, SERVICE_MAX_OLD_SPACE_MB, serviceNodeOptions } from './heap.js';
export { instanceId } from './instance-id.js';
export {
  installProcessGuards,
  isConnectionLoss,
  type OnShutdownOptions,
  onShutdown,
  type ShutdownSignal,
} from './lifecycle.js';
export { type CreateLoggerOptions, createLogger, type Logger } from './logger.js';
export { createMetricsRegistry, type Registry } from './metrics.js';
export { isSecretName, maskUrlCredentials } from './redact.js';
export {
  type CreateRedisOptions,
  checkRedis,
  closeRedis,
  computeReconnectDelay,
  createRedis,
  type Redis,
} from './redis.js';
export { createSleeper, type Sleeper } from './sleeper.js';
export {
  applyTcpTimeouts,
  DEFAULT_TCP_TIMEOUTS,
  type TcpTimeouts,
  tcpTimeoutsSupported,
} from './tcp-timeouts.js';
export { withTimeout } from './timeout.js';
export { WeightedLru } from './weighted-lru.js';
