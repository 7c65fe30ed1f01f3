import { createBus } from '@relay/bus';
import { type AnyEnvelope, parseEnvelope, streamNames } from '@relay/contracts';
import type { Sql } from '@relay/db';
import { checkDatabase } from '@relay/db';
import { checkRedis, createLogger, createMetricsRegistry, type Redis } from '@relay/runtime';
import { createTestDatabase, createTestRedis, deleteRedisPrefix, uniquePrefix } from '@relay/testing';
import type { Hono } from 'hono';
import { createApp } from '../src/app.js';
import type { AppDeps } from '../src/deps.js';
import { createRepository } from '../src/repository.js';

/** Real Postgres (a fresh test database) and real Redis (a unique prefix) shared by one test file. */
export interface Harness {
  sql: Sql;
  databaseUrl: string;
  redis: Redis;
  prefix: string;
  logger: AppDeps['logger'];
  /** An app over the real clients; `config` overrides the defaults (no token, 1 MiB, 5 s). */
  app(config?: Partial<AppDeps['config']>, overrides?: Partial<AppDeps>): Hono;
  /** Every valid envelope on the runs stream, oldest first; throws on an invalid one. */
  readRunsStream(): Promise<AnyEnvelope[]>;
  close(): Promise<void>;
}

/** Opens the test database and Redis; call `close()` in afterAll. */
export async function openHarness(label: string): Promise<Harness> {
  const database = await createTestDatabase();
  const redis = createTestRedis();
  const prefix = uniquePrefix(label);
  const logger = createLogger({ service: 'ingest', level: 'silent' });
  const bus = createBus({ redis, redisUrl: 'redis://127.0.0.1:6379', prefix, source: 'ingest', logger });
  const registry = createMetricsRegistry('ingest');
  return {
    sql: database.sql,
    databaseUrl: database.url,
    redis,
    prefix,
    logger,
    app: (config = {}, overrides = {}) =>
      createApp({
        repo: createRepository(database.sql, { timeoutMs: config.requestTimeoutMs ?? 5000 }),
        bus,
        config: { apiToken: undefined, maxBodyBytes: 1024 * 1024, requestTimeoutMs: 5000, ...config },
        logger,
        registry,
        checks: { postgres: () => checkDatabase(database.sql), redis: () => checkRedis(redis) },
        ...overrides,
      }),
    readRunsStream: async () => {
      const entries = await redis.xrange(streamNames(prefix).runs, '-', '+');
      return entries.map(([id, fields]) => {
        const raw = fields[fields.indexOf('event') + 1];
        const parsed = parseEnvelope(raw);
        if (!parsed.ok) throw new Error(`invalid envelope ${id}: ${parsed.reason}`);
        return parsed.event;
      });
    },
    close: async () => {
      await bus.close();
      await deleteRedisPrefix(redis, prefix);
      await redis.quit();
      await database.drop();
    },
  };
}

/** A JSON request for `app.request()`. */
export function jsonRequest(
  method: string,
  body?: unknown,
  headers: Record<string, string> = {},
): RequestInit {
  return {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  };
}

/** A YAML POST for `app.request('/workflows', ...)`. */
export function yamlRequest(text: string, headers: Record<string, string> = {}): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/yaml', ...headers }, body: text };
}

/** Inserts a task_run as the scheduler would (fixture for states ingest never writes). */
export async function insertTaskRun(
  sql: Sql,
  row: {
    runId: string;
    workflowId: string;
    taskId: string;
    status: string;
    attempt?: number;
    output?: string;
  },
): Promise<void> {
  await sql`
    INSERT INTO task_runs (id, run_id, task_id, workflow_id, status, attempt, output)
    VALUES (${`${row.runId}:${row.taskId}`}, ${row.runId}, ${row.taskId}, ${row.workflowId}, ${row.status},
            ${row.attempt ?? 0}, ${row.output ?? null})`;
}
