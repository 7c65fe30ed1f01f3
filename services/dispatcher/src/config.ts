import { commonEnv, type Env, envInt, healthEnv, MAX_TIMER_MS, parseEnv } from '@relay/runtime';
import * as v from 'valibot';

/** The dispatcher's environment. */
export const DispatcherEnvSchema = v.object({
  ...commonEnv,
  ...healthEnv,
  /** TaskReady events read per batch. */
  DISPATCHER_BATCH_SIZE: envInt({ min: 1, max: 10_000, default: 500 }),
  /** Longest sleep of the delayed poller. */
  DISPATCHER_DELAYED_POLL_MS: envInt({ min: 10, max: 60_000, default: 1000 }),
  /** Idle time after which a dead consumer's pending events are taken over. */
  DISPATCHER_CLAIM_IDLE_MS: envInt({ min: 100, max: MAX_TIMER_MS, default: 30_000 }),
});

/** Parsed dispatcher configuration. */
export type DispatcherConfig = v.InferOutput<typeof DispatcherEnvSchema>;

/** Reads the dispatcher's configuration; throws ConfigError naming each bad variable. */
export function loadDispatcherConfig(env: Env = process.env): DispatcherConfig {
  return parseEnv(DispatcherEnvSchema, env);
}

/** How long a SIGTERM'd dispatcher may take to stop gracefully before it exits anyway (infra/k8s allows for it). */
export const SHUTDOWN_GRACE_MS = 15_000;
