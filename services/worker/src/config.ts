import {
  checkHeartbeatWindow,
  commonEnv,
  type Env,
  envInt,
  envString,
  healthEnv,
  MAX_TIMER_MS,
  parseEnv,
} from '@relay/runtime';
import * as v from 'valibot';

/** Ranges of the worker's own numeric settings: its variables here, and createWorker's options. */
export const WORKER_LIMITS = {
  concurrency: { min: 1, max: 10_000 },
  graceMs: { min: 0, max: 3_600_000 },
  maxOutputBytes: { min: 1, max: 64 * 1024 * 1024 },
  claimIdleMs: { min: 100, max: MAX_TIMER_MS },
  definitionCacheTasks: { min: 1, max: 100_000_000 },
} as const;

/**
 * Default bound of the worker's definition cache, in tasks over the cached versions (a task's spec: id,
 * type, `with`, timeout). It used to be 500 definitions whatever their size: 500 big fan-outs would have
 * outgrown the heap.
 */
export const DEFAULT_DEFINITION_CACHE_TASKS = 100_000;

/** The worker's environment. */
export const WorkerEnvSchema = v.pipe(
  v.object({
    ...commonEnv,
    ...healthEnv,
    /** Comma-separated queues this worker takes work from. */
    RELAY_WORKER_QUEUES: envString('default', {
      pattern: /^[a-z0-9][a-z0-9._-]{0,127}(,[a-z0-9][a-z0-9._-]{0,127})*$/,
      expected: 'expected a comma-separated list of queue names like default,payments',
    }),
    /** Task attempts run at once. */
    RELAY_WORKER_CONCURRENCY: envInt({ ...WORKER_LIMITS.concurrency, default: 10 }),
    /** How long a graceful stop lets running tasks finish before handing them back. */
    RELAY_WORKER_GRACE_MS: envInt({ ...WORKER_LIMITS.graceMs, default: 10_000 }),
    /** Largest task output (JSON text, bytes); a bigger one fails the attempt. */
    RELAY_MAX_OUTPUT_BYTES: envInt({ ...WORKER_LIMITS.maxOutputBytes, default: 1024 * 1024 }),
    /** Idle time after which a dead worker's unclaimed work messages are taken over. */
    RELAY_WORKER_CLAIM_IDLE_MS: envInt({ ...WORKER_LIMITS.claimIdleMs, default: 30_000 }),
    /** Bound of the definition cache, in tasks summed over the cached workflow versions. */
    RELAY_WORKER_DEFINITION_CACHE_TASKS: envInt({
      ...WORKER_LIMITS.definitionCacheTasks,
      default: DEFAULT_DEFINITION_CACHE_TASKS,
    }),
  }),
  checkHeartbeatWindow(),
);

/** Parsed worker configuration. */
export type WorkerConfig = v.InferOutput<typeof WorkerEnvSchema>;

/** Reads the worker's configuration; throws ConfigError naming each bad variable. */
export function loadWorkerConfig(env: Env = process.env): WorkerConfig {
  return parseEnv(WorkerEnvSchema, env);
}

/** The queue names of RELAY_WORKER_QUEUES, deduplicated. */
export function queuesOf(config: Pick<WorkerConfig, 'RELAY_WORKER_QUEUES'>): string[] {
  return [...new Set(config.RELAY_WORKER_QUEUES.split(','))];
}

/**
 * How long a SIGTERM'd worker may take to stop before it exits anyway: the grace of its running tasks,
 * plus time to hand the rest back, write results and close (infra/k8s allows for it).
 */
export function shutdownGraceMs(config: Pick<WorkerConfig, 'RELAY_WORKER_GRACE_MS'>): number {
  return config.RELAY_WORKER_GRACE_MS + 15_000;
}
