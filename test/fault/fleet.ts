import { fileURLToPath } from 'node:url';
import type { Sql } from '@relay/db';
import {
  createTestDatabase,
  deleteRedisPrefix,
  type ProcessExit,
  type ServiceProcess,
  spawnService,
  uniquePrefix,
  waitFor,
} from '@relay/testing';
import { Redis } from 'ioredis';
import {
  applyWorkflowYaml,
  createApiCaller,
  ingestUrlOf,
  startRunThroughApi,
} from '../support/ingest-http.js';

/**
 * The fault suite's fleet: test/e2e/fleet.ts extended with what crash tests need: replacement
 * processes (by hand or by a supervisor, as `relay up` restarts a dead service), an exit log, SQL
 * waits that survive a Redis outage, and a Redis client that rides out a Redis restart.
 */
export interface FaultFleet {
  baseUrl: string;
  sql: Sql;
  prefix: string;
  redis: Redis;
  /** Live and dead processes by label (`worker-3`). */
  processes: Map<string, ServiceProcess>;
  /** Every exit seen, in order. */
  exits: { label: string; service: ServiceName; exit: ProcessExit; at: number }[];
  /** Starts one more process of a service; the label defaults to `<service>-<n>`. */
  spawn(service: ServiceName, env?: Record<string, string>, label?: string): ServiceProcess;
  /** Labels of the running processes of a service. */
  running(service: ServiceName): string[];
  /** Restarts every process of a service that exits, after `delayMs`, until stop(). */
  supervise(on: boolean): void;
  applyYaml(yaml: string): Promise<void>;
  startRun(workflowId: string, input?: unknown): Promise<string>;
  /** Polls Postgres until every run is finished; returns the runs' statuses. */
  waitForRuns(runIds: readonly string[], timeoutMs?: number): Promise<Map<string, string>>;
  /** The last log lines of every process, for failure messages. */
  logs(lines?: number): string;
  stop(): Promise<void>;
}

export type ServiceName = 'ingest' | 'scheduler' | 'dispatcher' | 'worker' | 'reaper';

export interface FaultFleetOptions {
  label?: string;
  /** Schedulers, dispatchers and reapers; default 1 each. */
  replicas?: number;
  workers?: number;
  env?: Record<string, string>;
  /** Restart exited processes (default false). */
  supervise?: boolean;
}

/** Environment of fault fleets: short heartbeats and claim idle times so recovery is quick. */
export const FAULT_ENV: Record<string, string> = {
  REDIS_URL: 'redis://127.0.0.1:6379',
  HEALTH_PORT: '0',
  LOG_LEVEL: process.env.FAULT_LOG_LEVEL ?? 'info',
  RELAY_HEARTBEAT_INTERVAL_MS: '250',
  RELAY_HEARTBEAT_TIMEOUT_MS: '1500',
  RELAY_WORKER_CLAIM_IDLE_MS: '2000',
  SCHEDULER_CLAIM_IDLE_MS: '2000',
  DISPATCHER_CLAIM_IDLE_MS: '2000',
  DISPATCHER_DELAYED_POLL_MS: '200',
};

const FINISHED = ['SUCCESS', 'FAILED', 'CANCELLED'];

function entryOf(service: ServiceName): string {
  return fileURLToPath(new URL(`../../services/${service}/dist/main.js`, import.meta.url));
}

/** A Redis client for tests that keeps retrying across a server restart. */
export function createPatientRedis(): Redis {
  return new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
    maxRetriesPerRequest: null,
    retryStrategy: () => 100,
  });
}

/** Starts a fleet on a fresh database and prefix; ingest is started last and its address awaited. */
export async function startFaultFleet(opts: FaultFleetOptions = {}): Promise<FaultFleet> {
  const db = await createTestDatabase();
  const prefix = uniquePrefix(opts.label ?? 'fault');
  const redis = createPatientRedis();
  const processes = new Map<string, ServiceProcess>();
  const serviceOf = new Map<string, ServiceName>();
  const exits: FaultFleet['exits'] = [];
  const counters = new Map<ServiceName, number>();
  let supervising = opts.supervise ?? false;
  let stopping = false;
  const baseEnv: Record<string, string> = {
    ...FAULT_ENV,
    DATABASE_URL: db.url,
    RELAY_PREFIX: prefix,
    ...opts.env,
  };

  function spawn(service: ServiceName, env: Record<string, string> = {}, label?: string) {
    const n = (counters.get(service) ?? 0) + 1;
    counters.set(service, n);
    const name = label ?? `${service}-${n}`;
    const proc = spawnService({ name, entry: entryOf(service), env: { ...baseEnv, ...env } });
    processes.set(name, proc);
    serviceOf.set(name, service);
    void proc.exited.then((exit) => {
      exits.push({ label: name, service, exit, at: Date.now() });
      // A replacement gets the fleet's environment, not the dead one's (e.g. no fault point).
      if (supervising && !stopping) setTimeout(() => !stopping && spawn(service), 100);
    });
    return proc;
  }

  const replicas = opts.replicas ?? 1;
  for (let i = 0; i < replicas; i += 1) {
    spawn('scheduler');
    spawn('dispatcher');
    spawn('reaper');
  }
  for (let i = 0; i < (opts.workers ?? 1); i += 1) spawn('worker');
  const ingest = spawn('ingest', { PORT: '0' });

  const baseUrl = await ingestUrlOf(ingest, 30_000);

  const api = createApiCaller(baseUrl);

  const logs = (lines = 30) =>
    [...processes.entries()]
      .map(([label, p]) => `--- ${label}\n${p.logs().slice(-lines).join('\n')}`)
      .join('\n');

  return {
    baseUrl,
    sql: db.sql,
    prefix,
    redis,
    processes,
    exits,
    spawn,
    logs,
    running: (service) =>
      [...processes.entries()]
        .filter(([l, p]) => serviceOf.get(l) === service && p.isRunning())
        .map(([l]) => l),
    supervise(on) {
      supervising = on;
    },
    applyYaml: (yaml) => applyWorkflowYaml(api, yaml),
    startRun: (workflowId, input) => startRunThroughApi(api, workflowId, input),
    async waitForRuns(runIds, timeoutMs = 30_000) {
      const ids = [...runIds];
      return waitFor(
        async () => {
          const rows = await db.sql<{ id: string; status: string }[]>`
            SELECT id, status FROM runs WHERE id = ANY(${ids}::text[])`;
          if (rows.length < ids.length || rows.some((r) => !FINISHED.includes(r.status))) return undefined;
          return new Map(rows.map((r) => [r.id, r.status]));
        },
        {
          timeoutMs,
          intervalMs: 100,
          message: `runs did not finish within ${timeoutMs} ms\n${logs()}`,
        },
      );
    },
    async stop() {
      stopping = true;
      await Promise.all([...processes.values()].map((p) => p.stop(5_000)));
      await deleteRedisPrefix(redis, prefix).catch(() => 0);
      redis.disconnect();
      await db.drop();
    },
  };
}
