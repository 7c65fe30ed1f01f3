import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createSql, defaultMigrationsDir, migrate, type Sql } from '@relay/db';
import { serviceNodeOptions } from '@relay/runtime';
import {
  createTestRedis,
  deleteRedisPrefix,
  type ServiceProcess,
  spawnService,
  waitFor,
} from '@relay/testing';
import { BenchApiError } from './errors.js';

/** Connections the bench's API client keeps open to ingest (see `api`). */
export const API_SOCKETS = 64;

/** The services the bench starts, one label per process. */
export type ServiceName = 'ingest' | 'scheduler' | 'dispatcher' | 'worker' | 'reaper';

/** One running service process. */
export interface BenchProcess {
  label: string;
  service: ServiceName;
  proc: ServiceProcess;
  pid: number;
}

/** The Relay fleet of one bench run on its own database and Redis prefix. */
export interface BenchFleet {
  baseUrl: string;
  database: string;
  sql: Sql;
  prefix: string;
  redis: ReturnType<typeof createTestRedis>;
  processes: BenchProcess[];
  /** JSON API call; throws BenchApiError unless the status is one of `expect`. */
  api<T>(method: string, path: string, body?: unknown, expect?: number[]): Promise<T>;
  /** Last log lines of every process (for error messages). */
  logs(): string;
  /** Stops the processes, deletes the prefix's keys and drops the database. */
  stop(): Promise<void>;
}

const ADMIN_URL = process.env.RELAY_BENCH_ADMIN_URL ?? 'postgres://relay:relay@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** URL of `database` on the admin URL's server. */
export function databaseUrl(database: string): string {
  const url = new URL(ADMIN_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

/** Runs `fn` on a one-connection pool to the server's `postgres` database. */
export async function withAdmin<T>(fn: (admin: Sql) => Promise<T>): Promise<T> {
  const admin = createSql(ADMIN_URL, { max: 1, applicationName: 'relay-bench-admin' });
  try {
    return await fn(admin);
  } finally {
    await admin.end({ timeout: 5 });
  }
}

function entryOf(service: ServiceName): string {
  return fileURLToPath(new URL(`../../services/${service}/dist/main.js`, import.meta.url));
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Creates and migrates `relay_bench_<hex>`, then starts scheduler, dispatcher, reaper, `workers`
 * workers (RELAY_WORKER_CONCURRENCY = `concurrency`) and ingest as child processes on a fresh prefix.
 */
export async function startBenchFleet(opts: { workers: number; concurrency: number }): Promise<BenchFleet> {
  const database = `relay_bench_${randomBytes(5).toString('hex')}`;
  await withAdmin((admin) => admin`CREATE DATABASE ${admin(database)}`);
  const url = databaseUrl(database);
  const sql = createSql(url, { max: 4, applicationName: 'relay-bench' });
  const prefix = `relaybench:${randomBytes(6).toString('hex')}`;
  const redis = createTestRedis(REDIS_URL);
  const processes: BenchProcess[] = [];
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;

  // A keep-alive pool, as an HTTP client library keeps: 1,000 concurrent POSTs share API_SOCKETS
  // connections instead of opening 1,000 (fetch's default pool has no bound).
  const agent = new http.Agent({ keepAlive: true, maxSockets: API_SOCKETS });

  const stop = async () => {
    agent.destroy();
    await Promise.all(processes.map((p) => p.proc.stop(15_000)));
    await deleteRedisPrefix(redis, prefix);
    redis.disconnect();
    await sql.end({ timeout: 5 });
    await withAdmin((admin) => admin`DROP DATABASE IF EXISTS ${admin(database)} WITH (FORCE)`);
  };

  const logs = () =>
    processes.map((p) => `--- ${p.label}\n${p.proc.logs().slice(-20).join('\n')}`).join('\n');

  try {
    await migrate(sql, { dir: defaultMigrationsDir() });
    const env: Record<string, string> = {
      DATABASE_URL: url,
      REDIS_URL,
      RELAY_PREFIX: prefix,
      HEALTH_PORT: '0',
      LOG_LEVEL: 'warn',
    };
    const spawn = (service: ServiceName, label: string, extra: Record<string, string> = {}) => {
      // Heap flags as `relay up` starts them (see @relay/runtime's serviceNodeOptions).
      const options = serviceNodeOptions(process.env.NODE_OPTIONS, service);
      const proc = spawnService({
        name: label,
        entry: entryOf(service),
        env: { ...env, NODE_OPTIONS: options, ...extra },
      });
      processes.push({ label, service, proc, pid: proc.pid });
    };
    spawn('scheduler', 'scheduler');
    spawn('dispatcher', 'dispatcher');
    spawn('reaper', 'reaper');
    for (let i = 1; i <= opts.workers; i += 1) {
      spawn('worker', `worker-${i}`, { RELAY_WORKER_CONCURRENCY: String(opts.concurrency) });
    }
    spawn('ingest', 'ingest', {
      PORT: String(port),
      RELAY_MAX_BODY_BYTES: String(512 * 1024 * 1024),
      RELAY_REQUEST_TIMEOUT_MS: String(600_000),
    });
    await waitFor(
      async () => {
        const dead = processes.find((p) => !p.proc.isRunning());
        if (dead) throw new Error(`${dead.label} exited at start:\n${logs()}`);
        const res = await fetch(`${baseUrl}/readyz`).catch(() => undefined);
        return res?.status === 200 ? true : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, message: 'ingest did not become ready' },
    );
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }

  const api = <T>(method: string, path: string, body?: unknown, expect = [200, 201, 202]): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = http.request(
        `${baseUrl}${path}`,
        {
          method,
          agent,
          headers:
            payload === undefined
              ? {}
              : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            const status = res.statusCode ?? 0;
            if (!expect.includes(status)) {
              reject(new BenchApiError(`${method} ${path}: status ${status}: ${text.slice(0, 500)}`));
              return;
            }
            try {
              resolve((text ? JSON.parse(text) : null) as T);
            } catch (err) {
              reject(err);
            }
          });
        },
      );
      req.on('error', reject);
      req.end(payload);
    });

  return { baseUrl, database, sql, prefix, redis, processes, api, logs, stop };
}
