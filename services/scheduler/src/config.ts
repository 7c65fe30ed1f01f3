import { commonEnv, type Env, envInt, healthEnv, MAX_TIMER_MS, parseEnv } from '@relay/runtime';
import * as v from 'valibot';
import { DEFAULT_CACHE_MAX_TASKS } from './definitions.js';

/** The scheduler's environment. */
export const SchedulerEnvSchema = v.object({
  ...commonEnv,
  ...healthEnv,
  /** Events read per stream per batch. */
  SCHEDULER_BATCH_SIZE: envInt({ min: 1, max: 10_000, default: 500 }),
  /** Idle time after which a dead consumer's pending events are taken over. */
  SCHEDULER_CLAIM_IDLE_MS: envInt({ min: 100, max: MAX_TIMER_MS, default: 30_000 }),
  /** Bound of the compiled-definition cache, in tasks summed over the cached workflow versions. */
  SCHEDULER_DEFINITION_CACHE_TASKS: envInt({ min: 1, max: 100_000_000, default: DEFAULT_CACHE_MAX_TASKS }),
  /** `on.schedule` ticks missed while no scheduler ran, up to this long ago, still fire (each once). */
  SCHEDULER_CRON_CATCHUP_MS: envInt({ min: 0, max: MAX_TIMER_MS, default: 600_000 }),
  /** How often the scheduled workflows are read again. */
  SCHEDULER_CRON_RELOAD_MS: envInt({ min: 100, max: MAX_TIMER_MS, default: 10_000 }),
});

/** Parsed scheduler configuration. */
export type SchedulerConfig = v.InferOutput<typeof SchedulerEnvSchema>;

/** Reads the scheduler's configuration; throws ConfigError naming each bad variable. */
export function loadSchedulerConfig(env: Env = process.env): SchedulerConfig {
  return parseEnv(SchedulerEnvSchema, env);
}

/** How long a SIGTERM'd scheduler may take to stop gracefully before it exits anyway (infra/k8s allows for it). */
export const SHUTDOWN_GRACE_MS = 15_000;
