import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { createBus } from '@relay/bus';
import { checkDatabase, createSql } from '@relay/db';
import {
  checkRedis,
  createLogger,
  createMetricsRegistry,
  createRedis,
  type Logger,
  portError,
  watchStartupReadiness,
} from '@relay/runtime';
import { createApp } from './app.js';
import type { IngestConfig } from './config.js';
import { createRepository } from './repository.js';

/**
 * Logged once at start when RELAY_API_TOKEN is unset: the API stays open (SPEC section 2), but
 * whoever can reach the port can register a workflow, and a workflow runs shell commands on the workers.
 */
export const OPEN_API_WARNING =
  'authentication is off (RELAY_API_TOKEN is not set): the API accepts every request from anyone who ' +
  'can reach its port, and registering a workflow runs shell commands on the workers; to require a ' +
  'token, set RELAY_API_TOKEN to a secret (e.g. `openssl rand -hex 32`) and send `Authorization: Bearer <token>`';

/** A running ingest server. */
export interface IngestService {
  /** `http://<host>:<port>` the server listens on (the real port when PORT=0). */
  url: string;
  port: number;
  /** Stops accepting requests, waits for in-flight ones, closes Redis and Postgres. */
  stop(): Promise<void>;
}

/** How often ingest re-checks Postgres and Redis at start until both answer. */
const STARTUP_CHECK_INTERVAL_MS = 5000;

/**
 * Bounds on a client that sends slowly (Node's defaults are 60 s for the headers and 300 s for the
 * whole request, checked every 30 s): a connection that trickles its headers, or a body far slower
 * than any real client, is answered 408 and closed instead of holding a socket for minutes.
 */
export const HTTP_TIMEOUTS = { headersMs: 10_000, requestMs: 60_000, checkEveryMs: 1000 };

/**
 * Wires config -> logger -> clients -> repository -> app and listens on `config.port`
 * (0 = any free port). Resolves once the server is listening.
 */
export async function startIngest(
  config: IngestConfig,
  deps: { logger?: Logger; hostname?: string; httpTimeouts?: typeof HTTP_TIMEOUTS } = {},
): Promise<IngestService> {
  const logger = deps.logger ?? createLogger({ service: 'ingest', level: config.logLevel });
  const sql = createSql(config.databaseUrl, { applicationName: 'relay-ingest' });
  const redis = createRedis(config.redisUrl, { logger, name: 'ingest-publisher' });
  const bus = createBus({
    redis,
    redisUrl: config.redisUrl,
    prefix: config.prefix,
    source: 'ingest',
    logger,
    ...(config.streamMaxLen ? { maxLen: config.streamMaxLen } : {}),
  });
  const registry = createMetricsRegistry('ingest');
  const app = createApp({
    repo: createRepository(sql, { timeoutMs: config.requestTimeoutMs }),
    bus,
    config,
    logger,
    registry,
    checks: { postgres: () => checkDatabase(sql), redis: () => checkRedis(redis) },
  });

  const listen = new Promise<ReturnType<typeof serve>>((resolve, reject) => {
    const timeouts = deps.httpTimeouts ?? HTTP_TIMEOUTS;
    const listening = serve(
      {
        fetch: app.fetch,
        port: config.port,
        hostname: deps.hostname,
        serverOptions: {
          headersTimeout: timeouts.headersMs,
          requestTimeout: timeouts.requestMs,
          connectionsCheckingInterval: timeouts.checkEveryMs,
        },
      },
      () => resolve(listening),
    );
    // Said in terms of the setting to change, as a bad variable is (a ConfigError).
    listening.once('error', (err: NodeJS.ErrnoException) => reject(portError(err, config.port, 'PORT')));
  });
  const server = await listen.catch(async (err: unknown) => {
    await Promise.allSettled([bus.close(), sql.end({ timeout: 1 })]);
    redis.disconnect();
    throw err;
  });
  if ('keepAliveTimeout' in server) server.keepAliveTimeout = config.keepAliveTimeoutMs;
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? 'localhost' : host}:${address.port}`;
  logger.info({ url }, 'ingest listening');
  if (config.apiToken === undefined) logger.warn({ url }, OPEN_API_WARNING);

  // Until Postgres and Redis answer, say so (the /readyz route logs 'not ready' with the reasons,
  // then 'ready'), as the other services' health servers do.
  const stopWatching = watchStartupReadiness(async () => (await app.request('/readyz')).status === 200, {
    logger,
    intervalMs: STARTUP_CHECK_INTERVAL_MS,
  });

  let stopping: Promise<void> | undefined;
  const stop = async (): Promise<void> => {
    stopWatching();
    await new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      // Keep-alive sockets with no request in flight would hold close() open.
      if ('closeIdleConnections' in server) server.closeIdleConnections();
    });
    await bus.close();
    await redis.quit().catch(() => redis.disconnect());
    await sql.end({ timeout: 5 });
    logger.info('ingest stopped');
  };
  return {
    url,
    port: address.port,
    stop: () => {
      stopping ??= stop();
      return stopping;
    },
  };
}
