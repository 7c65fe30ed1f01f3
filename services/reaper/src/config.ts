import { checkHeartbeatWindow, commonEnv, type Env, envInt, healthEnv, parseEnv } from '@relay/runtime';
import * as v from 'valibot';

/** The reaper's environment. */
export const ReaperEnvSchema = v.pipe(
  v.object({
    ...commonEnv,
    ...healthEnv,
    /** Scan period in ms; 0 (default) = min(RELAY_HEARTBEAT_TIMEOUT_MS / 4, 1000). */
    RELAY_REAPER_INTERVAL_MS: envInt({ min: 0, max: 3_600_000, default: 0 }),
    /** Stale task runs handled per transaction. */
    RELAY_REAPER_BATCH_SIZE: envInt({ min: 1, max: 10_000, default: 500 }),
    /** Reconciler sweep period in ms (re-publishes events that Redis lost). */
    RELAY_RECONCILE_INTERVAL_MS: envInt({ min: 10, max: 3_600_000, default: 5000 }),
    /** How long work may sit without its event moving it on before the reconciler re-publishes it. */
    RELAY_RECONCILE_GRACE_MS: envInt({ min: 0, max: 86_400_000, default: 5000 }),
    /** Runs finished more than this many days ago are deleted with their tasks; 0 (default) keeps all. */
    RELAY_RETENTION_DAYS: envInt({ min: 0, max: 36_500, default: 0 }),
    /** Period of the retention sweep (with RELAY_RETENTION_DAYS > 0). */
    RELAY_RETENTION_SWEEP_MS: envInt({ min: 1000, max: 86_400_000, default: 600_000 }),
  }),
  checkHeartbeatWindow(),
);

/** Parsed reaper configuration. */
export type ReaperConfig = v.InferOutput<typeof ReaperEnvSchema>;

/** Reads the reaper's configuration; throws ConfigError naming each bad variable. */
export function loadReaperConfig(env: Env = process.env): ReaperConfig {
  return parseEnv(ReaperEnvSchema, env);
}

/** The scan period: RELAY_REAPER_INTERVAL_MS, else min(timeout / 4, 1000) ms. */
export function reaperIntervalMs(
  config: Pick<ReaperConfig, 'RELAY_REAPER_INTERVAL_MS' | 'RELAY_HEARTBEAT_TIMEOUT_MS'>,
): number {
  if (config.RELAY_REAPER_INTERVAL_MS > 0) return config.RELAY_REAPER_INTERVAL_MS;
  return Math.max(10, Math.min(Math.floor(config.RELAY_HEARTBEAT_TIMEOUT_MS / 4), 1000));
}

/** How long a SIGTERM'd reaper may take to stop gracefully before it exits anyway (infra/k8s allows for it). */
export const SHUTDOWN_GRACE_MS = 10_000;
