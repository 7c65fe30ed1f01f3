import { type AnyEnvelope, parseEnvelope, STREAM_FIELD } from '@relay/contracts';
import type { Logger } from '@relay/runtime';
import type { Redis } from 'ioredis';
import { computeBackoffMs, createRateLimitedErrorLog, sleep, unlessAborted } from './backoff.js';
import { BlockingConnection } from './blocking-connection.js';
import { WATCHDOG_GRACE_MS } from './consumer.js';
import { compareStreamIds, findField, parseReadReply } from './entries.js';
import { InvalidBusOptionError } from './errors.js';
import { isStreamDeletedError } from './groups.js';
import type { BroadcastOptions, Consumer, ConsumerStats } from './types.js';

const READ_COUNT = 100;
const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 2000;

/** What a broadcast reader needs from its bus. */
export interface BroadcastDeps {
  redis: Redis;
  openBlocking: (name: string) => Redis;
  logger: Logger;
  onStopped: () => void;
}

/** Id of the newest entry of `stream`, or null when it is empty or missing. */
async function readLastId(redis: Redis, stream: string): Promise<string | null> {
  const last = await redis.xrevrange(stream, '+', '-', 'COUNT', 1);
  return last[0]?.[0] ?? null;
}

/**
 * Starts a reader that sees every event appended to `stream` after it started (XREAD without a
 * group, so every instance sees every event). Nothing is acked or dead-lettered: an invalid entry is
 * logged and skipped, a failing handler is logged and the events are not retried.
 * If the stream is reset (deleted, Redis restarted), reading resumes from its beginning.
 */
export function startBroadcastReader(deps: BroadcastDeps, opts: BroadcastOptions): Consumer {
  const blockMs = opts.blockMs ?? 2000;
  if (!Number.isInteger(blockMs) || blockMs <= 0) {
    throw new InvalidBusOptionError('blockMs', `expected a positive integer, got ${blockMs}`);
  }
  const { stream } = opts;
  const logger = deps.logger.child({ component: 'bus-broadcast', stream });
  const stats: ConsumerStats = { handled: 0, deadLettered: 0, failedBatches: 0 };
  const connection = new BlockingConnection(() => deps.openBlocking('bus:broadcast'), deps.redis);
  const stopping = new AbortController();
  const logError = createRateLimitedErrorLog(logger);
  // Resolved before the first read ("$" made concrete), so no event falls between two reads.
  let lastId: string | null = null;

  const handle = async (events: AnyEnvelope[]): Promise<void> => {
    try {
      await opts.handler(events);
      stats.handled += events.length;
    } catch (err) {
      stats.failedBatches += 1;
      logger.error({ err, events: events.length }, 'broadcast handler failed');
    }
  };

  const readOnce = async (from: string): Promise<void> => {
    const args = ['COUNT', READ_COUNT, 'BLOCK', blockMs, 'STREAMS', stream, from];
    const reply = await connection.run((client) => client.call('XREAD', args), blockMs + WATCHDOG_GRACE_MS);
    const entries = parseReadReply('XREAD', reply);
    const last = entries.at(-1);
    if (!last) {
      // Idle: if the stream was reset its new ids may sit below lastId; start over from its beginning.
      const newest = await unlessAborted(readLastId(deps.redis, stream), stopping.signal);
      if (newest === null || compareStreamIds(newest, from) < 0) lastId = '0-0';
      return;
    }
    const events: AnyEnvelope[] = [];
    for (const entry of entries) {
      const parsed = parseEnvelope(findField(entry.fields, STREAM_FIELD) ?? '');
      if (parsed.ok) events.push(parsed.event);
      else logger.warn({ entryId: entry.id, reason: parsed.reason }, 'invalid broadcast entry skipped');
    }
    lastId = last.id;
    if (events.length > 0) await handle(events);
  };

  const loop = async (): Promise<void> => {
    let failures = 0;
    while (!stopping.signal.aborted) {
      try {
        // Abortable: with Redis unreachable the read waits in the offline queue, and a stop must not.
        lastId ??= (await unlessAborted(readLastId(deps.redis, stream), stopping.signal)) ?? '0-0';
        await readOnce(lastId);
        failures = 0;
      } catch (err) {
        if (stopping.signal.aborted) break;
        // The stream was deleted under a blocked XREAD: whatever it holds now came after the reset.
        if (isStreamDeletedError(err)) {
          lastId = '0-0';
          continue;
        }
        failures += 1;
        logError(
          err instanceof Error ? err.name : 'error',
          { err, attempt: failures },
          'broadcast read failed; backing off',
        );
        await sleep(computeBackoffMs(failures, BACKOFF_BASE_MS, BACKOFF_MAX_MS), stopping.signal);
      }
    }
  };

  const done = loop().catch((err: unknown) => logger.fatal({ err }, 'broadcast loop crashed'));
  let stopped: Promise<void> | null = null;

  return {
    stats,
    wake: () => {},
    stop: () => {
      stopped ??= (async () => {
        stopping.abort();
        connection.interrupt();
        await done;
        await connection.close();
        deps.onStopped();
      })();
      return stopped;
    },
  };
}
