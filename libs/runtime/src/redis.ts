import { once } from 'node:events';
import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { exitOnBadConfig } from './config.js';
import { RedisNotReadyError } from './errors.js';
import type { Logger } from './logger.js';
import { applyTcpTimeouts, DEFAULT_TCP_TIMEOUTS, type TcpTimeouts } from './tcp-timeouts.js';
import { createThrottle } from './throttle.js';
import { withTimeout } from './timeout.js';

export type { Redis } from 'ioredis';

/** Options of createRedis. */
export interface CreateRedisOptions {
  /** Parent logger; the client logs through a child with `{ redis: name }`. */
  logger: Logger;
  /** Role of the connection (`publisher`, `consumer`), sent as CLIENT SETNAME and logged. */
  name: string;
  /**
   * For connections that issue blocking commands (XREADGROUP BLOCK): commands then wait for a
   * reconnect forever (maxRetriesPerRequest null) instead of failing after a number of reconnects.
   */
  blocking?: boolean;
  /** At most one log line per error kind per this many milliseconds; default 10000. */
  errorLogIntervalMs?: number;
  /**
   * Called when the server refuses the URL's database (`redis://host/99` beyond its `databases`):
   * ioredis would go on in database 0, beside whatever else lives there. Default: one line naming
   * REDIS_URL on stderr, then exit with CONFIG_EXIT_CODE, as for any bad variable.
   */
  onBadDatabase?: (message: string) => void;
  /** How soon a connection to a server gone silent fails (default {@link DEFAULT_TCP_TIMEOUTS}). */
  tcpTimeouts?: TcpTimeouts;
}

/** The server's refusal of a SELECT: `ERR DB index is out of range` (older: `ERR invalid DB index`). */
const BAD_DATABASE = /^ERR (DB index is out of range|invalid DB index)/;

/** Reconnects a non-blocking connection may span before its pending commands fail. */
const MAX_RETRIES_PER_REQUEST = 20;
/** Ceiling of the reconnect backoff. */
const MAX_RECONNECT_DELAY_MS = 2000;

/** Reconnect delay after the `attempt`-th failure: 100ms doubling, capped at 2s; never gives up. */
export function computeReconnectDelay(attempt: number): number {
  return Math.min(100 * 2 ** Math.max(0, attempt - 1), MAX_RECONNECT_DELAY_MS);
}

/**
 * Creates an ioredis client that connects at once, queues commands while disconnected, reconnects
 * forever with capped backoff, and never emits an unhandled 'error': connection errors are logged at
 * warn, at most once per kind (error code) per interval, with the number of repeats swallowed.
 */
export function createRedis(url: string, options: CreateRedisOptions): Redis {
  const log = options.logger.child({ redis: options.name });
  const redis = new Redis(url, {
    connectionName: options.name.replace(/\s+/g, '-'),
    lazyConnect: false,
    enableOfflineQueue: true,
    maxRetriesPerRequest: options.blocking === true ? null : MAX_RETRIES_PER_REQUEST,
    retryStrategy: computeReconnectDelay,
    // After a failover the old primary answers writes with READONLY: reconnect (and resend) instead.
    reconnectOnError: (error) => (error.message.startsWith('READONLY') ? 2 : false),
  });

  // A server gone silent (host down, failover to another address) fails the connection in seconds
  // (ETIMEDOUT), and ioredis reconnects and resends, instead of waiting on it for ~15 minutes.
  const tcpTimeouts = options.tcpTimeouts ?? DEFAULT_TCP_TIMEOUTS;
  redis.on('connect', () => {
    if (redis.stream) applyTcpTimeouts(redis.stream as Socket, tcpTimeouts);
  });

  const shouldLog = createThrottle(options.errorLogIntervalMs ?? 10_000);
  let hadError = false;
  redis.on('error', (err: Error & { code?: string }) => {
    if (BAD_DATABASE.test(err.message)) {
      const db = redis.options.db ?? 0;
      (options.onBadDatabase ?? exitOnBadConfig)(
        `REDIS_URL: database ${db} does not exist on this Redis server (${err.message}); pick one it has, like /0`,
      );
      return;
    }
    hadError = true;
    const kind = err.code ?? err.name;
    const decision = shouldLog(kind, Date.now());
    if (decision.emit) log.warn({ err, kind, suppressed: decision.suppressed }, 'redis connection error');
  });
  redis.on('ready', () => {
    if (hadError) log.info('redis connection restored');
    else log.debug('redis connection ready');
    hadError = false;
  });
  return redis;
}

/**
 * Closes a client for shutdown: QUIT (pending replies arrive first) when connected, bounded by
 * `timeoutMs` (default 2000) and resolved once the socket has closed; otherwise, or when QUIT times out, drops the connection and stops
 * reconnecting. A QUIT on a reconnecting client would sit in the offline queue, hence the status check.
 */
export async function closeRedis(redis: Redis, timeoutMs = 2000): Promise<void> {
  if (redis.status === 'ready') {
    try {
      // Resolve on 'end', not on QUIT's reply: the socket closes just after the reply.
      await withTimeout(Promise.all([redis.quit(), once(redis, 'end')]), timeoutMs);
      return;
    } catch {
      // Fall through: a QUIT that failed or hung is replaced by a hard disconnect.
    }
  }
  redis.disconnect(false);
}

/**
 * Readiness check of a Redis client: fails at once unless the connection is ready (commands would sit
 * in the offline queue), then PINGs with a timeout (default 1000ms).
 */
export async function checkRedis(redis: Redis, timeoutMs = 1000): Promise<void> {
  if (redis.status !== 'ready') throw new RedisNotReadyError(redis.status);
  await withTimeout(redis.ping(), timeoutMs);
}
