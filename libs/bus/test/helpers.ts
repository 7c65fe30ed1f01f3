import { randomUUID } from 'node:crypto';
import { createLogger, createRedis, type Logger, type Redis } from '@relay/runtime';
import { type Bus, createBus, type OutgoingEvent } from '../src/index.js';

/** Redis every bus test uses (shared with other engineers: always under a unique prefix). */
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Polls `check` until it returns a truthy value; throws naming `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => T | Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A TaskReady event for task `t<index>` of one run (routed to `P:ready`). */
export function taskReady(index: number, runId = 'run-1'): OutgoingEvent {
  return {
    type: 'TaskReady',
    data: { runId, taskId: `t${index}`, taskRunId: `${runId}:t${index}`, queue: 'default' },
  };
}

/** A TaskAbortRequested event (routed to `P:control`). */
export function abortRequested(runId: string): OutgoingEvent {
  return { type: 'TaskAbortRequested', data: { runId, taskRunIds: [`${runId}:a`], reason: 'CANCELLED' } };
}

/** One test's world: a unique prefix, a shared connection, a bus; `cleanup` deletes the prefix's keys. */
export interface TestBus {
  prefix: string;
  redis: Redis;
  logger: Logger;
  bus: Bus;
  /** Opens another bus on the same prefix (another "process"). */
  openBus(opts?: { maxLen?: number; source?: string }): Bus;
  cleanup(): Promise<void>;
}

/** Creates a TestBus; call `cleanup` in afterEach. */
export function createTestBus(opts: { maxLen?: number } = {}): TestBus {
  const prefix = `test-bus-${randomUUID()}`;
  const logger = createLogger({
    service: 'bus-test',
    level: (process.env.LOG_LEVEL as 'silent') ?? 'silent',
  });
  const redis = createRedis(REDIS_URL, { logger, name: 'bus-test' });
  const buses: Bus[] = [];
  const openBus = (o: { maxLen?: number; source?: string } = {}): Bus => {
    const bus = createBus({
      redis,
      redisUrl: REDIS_URL,
      prefix,
      source: o.source ?? 'bus-test',
      logger,
      ...(o.maxLen === undefined ? {} : { maxLen: o.maxLen }),
    });
    buses.push(bus);
    return bus;
  };
  const bus = openBus(opts);
  return {
    prefix,
    redis,
    logger,
    bus,
    openBus,
    async cleanup() {
      await Promise.all(buses.map((b) => b.close()));
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
    },
  };
}

/** Number of pending (delivered, unacked) entries of a group. */
export async function countPending(redis: Redis, stream: string, group: string): Promise<number> {
  const summary = (await redis.xpending(stream, group)) as [number, ...unknown[]];
  return summary[0];
}

/** Entries of the dead-letter stream, as field maps. */
export async function readDeadLetters(redis: Redis, deadStream: string): Promise<Record<string, string>[]> {
  const entries = await redis.xrange(deadStream, '-', '+');
  return entries.map(([, fields]) => {
    const out: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) out[fields[i] as string] = fields[i + 1] as string;
    return out;
  });
}
