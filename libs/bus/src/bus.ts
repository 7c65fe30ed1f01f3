import { streamNames } from '@relay/contracts';
import { createRedis, type Logger } from '@relay/runtime';
import type { Redis } from 'ioredis';
import { startBroadcastReader } from './broadcast.js';
import { startGroupConsumer } from './consumer.js';
import { createDelayedSet } from './delayed.js';
import { BusClosedError, InvalidBusOptionError } from './errors.js';
import { appendEvents, prepareEvents } from './publish.js';
import type { Bus, Consumer } from './types.js';

/** Default approximate MAXLEN of every stream. */
export const DEFAULT_MAX_LEN = 100_000;

/** Options of {@link createBus}. */
export interface BusOptions {
  /** Shared non-blocking connection (publish, acks, claims, dead letters); not closed by the bus. */
  redis: Redis;
  /** URL for the dedicated blocking connection each consumer opens. */
  redisUrl: string;
  /** RELAY_PREFIX: every key lives under it. */
  prefix: string;
  /** `source` of every published envelope (the service name). */
  source: string;
  logger: Logger;
  /** Approximate MAXLEN of every stream written (events and dead letters); default 100 000. */
  maxLen?: number;
}

/**
 * Creates the Redis Streams bus of one prefix: publish, consumer groups, broadcast readers and the
 * delayed set. `close()` stops consumers and their connections; `publish` keeps working after it,
 * since the shared connection belongs to the caller (a worker can still hand tasks back on shutdown).
 */
export function createBus(opts: BusOptions): Bus {
  const maxLen = opts.maxLen ?? DEFAULT_MAX_LEN;
  if (!Number.isInteger(maxLen) || maxLen <= 0) {
    throw new InvalidBusOptionError('maxLen', `expected a positive integer, got ${maxLen}`);
  }
  const names = streamNames(opts.prefix);
  const consumers = new Set<Consumer>();
  let closed = false;
  const openBlocking = (name: string): Redis =>
    createRedis(opts.redisUrl, { logger: opts.logger, name, blocking: true });
  const track = (operation: string, start: (onStopped: () => void) => Consumer): Consumer => {
    if (closed) throw new BusClosedError(operation);
    let consumer: Consumer | null = null;
    consumer = start(() => {
      if (consumer) consumers.delete(consumer);
    });
    consumers.add(consumer);
    return consumer;
  };

  return {
    async publish(events) {
      const list = Array.isArray(events) ? events : [events];
      const prepared = prepareEvents(list as Parameters<typeof prepareEvents>[0], opts);
      return appendEvents(opts.redis, prepared, maxLen);
    },
    consume(consumeOpts) {
      return track('consume', (onStopped) =>
        startGroupConsumer(
          { redis: opts.redis, openBlocking, deadStream: names.dead, maxLen, logger: opts.logger, onStopped },
          consumeOpts,
        ),
      );
    },
    broadcast(broadcastOpts) {
      return track('broadcast', (onStopped) =>
        startBroadcastReader(
          { redis: opts.redis, openBlocking, logger: opts.logger, onStopped },
          broadcastOpts,
        ),
      );
    },
    delayed: createDelayedSet(opts.redis, names.delayed),
    async close() {
      closed = true;
      await Promise.all([...consumers].map((consumer) => consumer.stop()));
    },
  };
}
