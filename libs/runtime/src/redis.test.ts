import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { RedisNotReadyError } from './errors.js';
import { createLogger } from './logger.js';
import { checkRedis, closeRedis, computeReconnectDelay, createRedis, type Redis } from './redis.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `test:runtime:${randomUUID()}:`;
const clients: Redis[] = [];

function captureLogger() {
  const records: Record<string, unknown>[] = [];
  const destination = { write: (line: string) => void records.push(JSON.parse(line)) };
  return { logger: createLogger({ service: 'redis-test', level: 'debug', destination }), records };
}

function track(redis: Redis): Redis {
  clients.push(redis);
  return redis;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met before the deadline');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

afterEach(() => {
  vi.restoreAllMocks();
});

afterAll(async () => {
  const cleaner = track(createRedis(REDIS_URL, { logger: captureLogger().logger, name: 'cleaner' }));
  const keys = await cleaner.keys(`${prefix}*`);
  if (keys.length > 0) await cleaner.del(...keys);
  for (const client of clients) client.disconnect();
});

describe('computeReconnectDelay', () => {
  it.each([
    [1, 100],
    [2, 200],
    [3, 400],
    [5, 1600],
    [6, 2000],
    [50, 2000],
    [10_000, 2000],
  ])('waits %i -> %ims', (attempt, delay) => {
    expect(computeReconnectDelay(attempt)).toBe(delay);
  });
});

describe('createRedis', () => {
  it('connects, runs commands and names the connection', async () => {
    const { logger } = captureLogger();
    const redis = track(createRedis(REDIS_URL, { logger, name: 'runtime test' }));
    await redis.set(`${prefix}k`, 'v');
    expect(await redis.get(`${prefix}k`)).toBe('v');
    expect(await redis.client('GETNAME')).toBe('runtime-test');
    expect(redis.options.maxRetriesPerRequest).toBe(20);
    expect(redis.options.enableOfflineQueue).toBe(true);
    await redis.quit();
  });

  it('lets commands of a blocking connection wait for reconnects forever', async () => {
    const redis = track(
      createRedis(REDIS_URL, { logger: captureLogger().logger, name: 'blocker', blocking: true }),
    );
    expect(redis.options.maxRetriesPerRequest).toBeNull();
    await redis.quit();
  });

  it('survives a closed port: keeps retrying, logs the error once per interval, nothing unhandled', async () => {
    const consoleError = vi.spyOn(console, 'error');
    const unhandled = vi.fn();
    process.on('uncaughtException', unhandled);
    process.on('unhandledRejection', unhandled);
    try {
      const { logger, records } = captureLogger();
      const port = await closedPort();
      const redis = track(createRedis(`redis://127.0.0.1:${port}`, { logger, name: 'nowhere' }));
      let reconnects = 0;
      redis.on('reconnecting', () => {
        reconnects += 1;
      });
      await waitFor(() => reconnects >= 3);
      await expect(checkRedis(redis)).rejects.toBeInstanceOf(RedisNotReadyError);

      const warnings = records.filter((r) => r.msg === 'redis connection error');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({
        level: 'warn',
        kind: 'ECONNREFUSED',
        redis: 'nowhere',
        suppressed: 0,
      });

      await closeRedis(redis);
      const reconnectsAtClose = reconnects;
      await new Promise((resolve) => setTimeout(resolve, 600));
      expect(reconnects).toBe(reconnectsAtClose);
      expect(consoleError).not.toHaveBeenCalled();
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('uncaughtException', unhandled);
      process.off('unhandledRejection', unhandled);
    }
  });

  it('fails the commands of a non-blocking connection once retries run out, without crashing', async () => {
    const { logger } = captureLogger();
    const port = await closedPort();
    const redis = track(createRedis(`redis://127.0.0.1:${port}`, { logger, name: 'gives-up' }));
    // Only the per-request retry budget is shortened here, to keep the test fast.
    redis.options.maxRetriesPerRequest = 1;
    await expect(redis.get(`${prefix}never`)).rejects.toThrow(/max retries per request/i);
    redis.disconnect();
  });
});

describe('createRedis: a database the server does not have', () => {
  it('reports REDIS_URL once instead of going on in database 0', async () => {
    const { logger } = captureLogger();
    const url = new URL(REDIS_URL);
    url.pathname = '/9999'; // past any server's `databases` (16 by default)
    const reported = new Promise<string>((resolve) => {
      track(createRedis(url.toString(), { logger, name: 'bad-db', onBadDatabase: resolve }));
    });
    expect(await reported).toMatch(
      /^REDIS_URL: database 9999 does not exist on this Redis server \(ERR (DB index is out of range|invalid DB index)\); pick one it has, like \/0$/,
    );
  });
});

describe('checkRedis', () => {
  it('resolves against a live server', async () => {
    const redis = track(createRedis(REDIS_URL, { logger: captureLogger().logger, name: 'checked' }));
    await waitFor(() => redis.status === 'ready');
    await expect(checkRedis(redis)).resolves.toBeUndefined();
    await closeRedis(redis);
    expect(redis.status).toBe('end');
    await expect(checkRedis(redis)).rejects.toThrow('redis connection is end');
  });
});
