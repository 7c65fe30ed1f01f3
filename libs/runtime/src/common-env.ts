import * as v from 'valibot';
import { envEnum, envInt, envPort, envPostgresUrl, envRedisUrl, envString } from './env-entries.js';

/** pino's level names, most to least severe, plus `silent`. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** A pino level name. */
export type LogLevel = (typeof LOG_LEVELS)[number];

/** setTimeout's largest delay; longer timers fire at once, so intervals are capped here. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * The variables every service reads (SPEC section 2). Spread into a service's schema:
 * `v.object({ ...commonEnv, ...healthEnv, MY_VAR: envInt({ default: 5 }) })`.
 */
export const commonEnv = {
  DATABASE_URL: envPostgresUrl('postgres://relay:relay@localhost:5432/relay'),
  REDIS_URL: envRedisUrl('redis://localhost:6379'),
  RELAY_PREFIX: envString('relay', {
    pattern: /^[A-Za-z0-9._:-]{1,64}$/,
    expected: 'expected 1 to 64 characters of A-Z a-z 0-9 . _ : -',
  }),
  LOG_LEVEL: envEnum(LOG_LEVELS, 'info'),
  RELAY_HEARTBEAT_INTERVAL_MS: envInt({ min: 1, max: MAX_TIMER_MS, default: 2000 }),
  RELAY_HEARTBEAT_TIMEOUT_MS: envInt({ min: 1, max: MAX_TIMER_MS, default: 10_000 }),
  /**
   * Approximate bound on each stream's length (XADD MAXLEN ~). An event trimmed before it was read is
   * re-derived from Postgres by the reaper's reconciler, so the bound caps Redis memory, not correctness.
   */
  RELAY_STREAM_MAXLEN: envInt({ min: 1000, max: 100_000_000, default: 100_000 }),
};

/** The health/metrics port of services other than ingest (ingest serves them on its `PORT`). */
export const healthEnv = {
  HEALTH_PORT: envPort(0),
};

/** The two heartbeat settings checkHeartbeatWindow compares. */
export type HeartbeatWindow = {
  RELAY_HEARTBEAT_INTERVAL_MS: number;
  RELAY_HEARTBEAT_TIMEOUT_MS: number;
};

/**
 * Pipe action for a schema containing commonEnv: a heartbeat timeout must exceed the interval,
 * or every running task would look stalled. Use as `v.pipe(v.object({...}), checkHeartbeatWindow())`.
 * The issue is reported on RELAY_HEARTBEAT_TIMEOUT_MS.
 */
export function checkHeartbeatWindow<TInput extends HeartbeatWindow>(): v.BaseValidation<
  TInput,
  TInput,
  v.CheckIssue<TInput>
> {
  return v.forward<TInput, v.CheckIssue<TInput>, ['RELAY_HEARTBEAT_TIMEOUT_MS']>(
    v.check(
      (env) => env.RELAY_HEARTBEAT_TIMEOUT_MS > env.RELAY_HEARTBEAT_INTERVAL_MS,
      (issue) =>
        `expected more than RELAY_HEARTBEAT_INTERVAL_MS (${issue.input.RELAY_HEARTBEAT_INTERVAL_MS})`,
    ),
    // The constraint guarantees the key; TypeScript cannot check a path into a generic type.
    ['RELAY_HEARTBEAT_TIMEOUT_MS'] as never,
  );
}
