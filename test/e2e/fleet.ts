import { fileURLToPath } from 'node:url';
import type { Sql } from '@relay/db';
import {
  createTestDatabase,
  createTestRedis,
  deleteRedisPrefix,
  type ServiceProcess,
  spawnService,
  uniquePrefix,
  waitFor,
} from '@relay/testing';
import {
  type ApiResponse,
  applyWorkflowYaml,
  createApiCaller,
  ingestUrlOf,
  startRunThroughApi,
} from '../support/ingest-http.js';

export type { ApiResponse };

/** What end-to-end tests get: a real fleet of service processes on a fresh database and prefix. */
export interface Fleet {
  baseUrl: string;
  sql: Sql;
  prefix: string;
  redis: ReturnType<typeof createTestRedis>;
  processes: Map<string, ServiceProcess>;
  /** Starts one more process of a service (e.g. a replacement worker). */
  spawn(service: ServiceName, label: string, env?: Record<string, string>): Promise<ServiceProcess>;
  api<T = unknown>(
    method: string,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<ApiResponse<T>>;
  applyYaml(yaml: string): Promise<void>;
  startRun(workflowId: string, input?: unknown): Promise<string>;
  waitForRun(runId: string, timeoutMs?: number): Promise<RunView>;
  /** The last log lines of every process, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

export type ServiceName = 'ingest' | 'scheduler' | 'dispatcher' | 'worker' | 'reaper';

export interface TaskView {
  taskId: string;
  status: string;
  attempt: number;
  output: unknown;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

export interface RunView {
  id: string;
  workflowId: string;
  status: string;
  error?: string | null;
  tasks: TaskView[];
}

const FINISHED = new Set(['SUCCESS', 'FAILED', 'CANCELLED']);

function entryOf(service: ServiceName): string {
  return fileURLToPath(new URL(`../../services/${service}/dist/main.js`, import.meta.url));
}

/**
 * Starts `replicas` of scheduler, dispatcher and reaper, `workers` workers and one ingest as child
 * processes (the built dist/ files) on a fresh database and a unique Redis prefix.
 */
export async function startFleet(
  opts: { replicas?: number; workers?: number; env?: Record<string, string>; label?: string } = {},
): Promise<Fleet> {
  const db = await createTestDatabase();
  const prefix = uniquePrefix(opts.label ?? 'e2e');
  const redis = createTestRedis();
  const processes = new Map<string, ServiceProcess>();
  const baseEnv: Record<string, string> = {
    DATABASE_URL: db.url,
    REDIS_URL: 'redis://127.0.0.1:6379',
    RELAY_PREFIX: prefix,
    HEALTH_PORT: '0',
    LOG_LEVEL: process.env.E2E_LOG_LEVEL ?? 'info',
    RELAY_HEARTBEAT_INTERVAL_MS: '300',
    RELAY_HEARTBEAT_TIMEOUT_MS: '2000',
    ...opts.env,
  };

  const spawn = async (service: ServiceName, label: string, env: Record<string, string> = {}) => {
    const proc = spawnService({ name: label, entry: entryOf(service), env: { ...baseEnv, ...env } });
    processes.set(label, proc);
    return proc;
  };

  const replicas = opts.replicas ?? 1;
  for (let i = 1; i <= replicas; i += 1) {
    await spawn('scheduler', `scheduler-${i}`);
    await spawn('dispatcher', `dispatcher-${i}`);
    await spawn('reaper', `reaper-${i}`);
  }
  for (let i = 1; i <= (opts.workers ?? 1); i += 1) await spawn('worker', `worker-${i}`);
  const ingest = await spawn('ingest', 'ingest', { PORT: '0' });

  const baseUrl = await ingestUrlOf(ingest, 20_000);

  const api = createApiCaller(baseUrl);

  const logs = () =>
    [...processes.entries()]
      .map(([label, p]) => `--- ${label}\n${p.logs().slice(-40).join('\n')}`)
      .join('\n');

  const fleet: Fleet = {
    logs,
    baseUrl,
    sql: db.sql,
    prefix,
    redis,
    processes,
    spawn,
    api,
    applyYaml: (yaml) => applyWorkflowYaml(api, yaml),
    startRun: (workflowId, input) => startRunThroughApi(api, workflowId, input),
    async waitForRun(runId, timeoutMs = 20_000) {
      return waitFor(
        async () => {
          const res = await api<RunView>('GET', `/runs/${runId}`);
          return FINISHED.has(res.body.status) ? res.body : undefined;
        },
        { timeoutMs, intervalMs: 100, message: `run ${runId} did not finish\n${fleet.logs()}` },
      );
    },
    async stop() {
      await Promise.all([...processes.values()].map((p) => p.stop(10_000)));
      await deleteRedisPrefix(redis, prefix);
      redis.disconnect();
      await db.drop();
    },
  };
  return fleet;
}
