import type { Logger } from '@relay/runtime';
import type { Redis } from 'ioredis';
import { computeBackoffMs, createRateLimitedErrorLog, sleep, unlessAborted } from './backoff.js';
import { BlockingConnection } from './blocking-connection.js';
import { CLAIM_START, claimIdleEntries } from './claim.js';
import { type DeliveryContext, processEntries } from './deliver.js';
import { parseReadReply } from './entries.js';
import { InvalidBusOptionError } from './errors.js';
import { ensureGroups, isNoGroupError } from './groups.js';
import type { ConsumeOptions, Consumer, ConsumerStats } from './types.js';
import { WakeLatch } from './wake.js';

/** Grace added to BLOCK before the watchdog drops a blocking connection. */
export const WATCHDOG_GRACE_MS = 5000;
/** How often capacity() is re-checked while it returns 0 and nobody calls wake(). */
export const CAPACITY_POLL_MS = 250;
const BACKOFF_BASE_MS = 50;
const BACKOFF_MAX_MS = 2000;

/** What a consumer needs from its bus. */
export interface ConsumerDeps {
  /** Shared non-blocking connection: XGROUP, XAUTOCLAIM, XACK, dead letters. */
  redis: Redis;
  /** Opens a dedicated blocking connection named `name` (CLIENT SETNAME). */
  openBlocking: (name: string) => Redis;
  deadStream: string;
  maxLen: number;
  logger: Logger;
  /** Called once the consumer has fully stopped. */
  onStopped: () => void;
}

function requirePositiveInt(option: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0)
    throw new InvalidBusOptionError(option, `expected a positive integer, got ${value}`);
  return value;
}

/** Resolves ConsumeOptions defaults and checks ranges. */
export function resolveConsumeOptions(
  opts: ConsumeOptions,
): Required<Omit<ConsumeOptions, 'capacity'>> & Pick<ConsumeOptions, 'capacity'> {
  if (opts.streams.length === 0) throw new InvalidBusOptionError('streams', 'expected at least one stream');
  if (opts.group === '') throw new InvalidBusOptionError('group', 'expected a non-empty name');
  if (opts.consumer === '') throw new InvalidBusOptionError('consumer', 'expected a non-empty name');
  const claimIdleMs = requirePositiveInt('claimIdleMs', opts.claimIdleMs ?? 30_000);
  return {
    ...opts,
    count: requirePositiveInt('count', opts.count ?? 100),
    blockMs: requirePositiveInt('blockMs', opts.blockMs ?? 2000),
    claimIdleMs,
    claimEveryMs: requirePositiveInt(
      'claimEveryMs',
      opts.claimEveryMs ?? Math.max(1, Math.floor(claimIdleMs / 2)),
    ),
    maxDeliveries: requirePositiveInt('maxDeliveries', opts.maxDeliveries ?? 5),
  };
}

/**
 * Starts a consumer-group consumer loop (see ConsumeOptions). The loop never dies: NOGROUP recreates
 * the groups with a backoff (first retry immediate, then doubling up to 2 s), any other error is
 * logged (rate-limited) and retried after a backoff. Reads and claims are handled one batch at a time.
 */
export function startGroupConsumer(deps: ConsumerDeps, options: ConsumeOptions): Consumer {
  const opts = resolveConsumeOptions(options);
  const { streams, group, consumer } = opts;
  const logger = deps.logger.child({ component: 'bus-consumer', group, consumer });
  const stats: ConsumerStats = { handled: 0, deadLettered: 0, failedBatches: 0 };
  const ctx: DeliveryContext = {
    ...deps,
    group,
    consumer,
    maxDeliveries: opts.maxDeliveries,
    handler: opts.handler,
    logger,
    stats,
  };
  const connection = new BlockingConnection(() => deps.openBlocking(`bus:${group}:${consumer}`), deps.redis);
  const stopping = new AbortController();
  const latch = new WakeLatch();
  const logError = createRateLimitedErrorLog(logger);
  const claimCursors = new Map<string, string>();
  // Claim at start too: re-handles this consumer's own stale entries after a crash-restart.
  let nextClaimAt = 0;

  const capacityNow = (): number => {
    if (!opts.capacity) return opts.count;
    const k = Math.floor(opts.capacity());
    return Number.isFinite(k) ? Math.max(0, Math.min(opts.count, k)) : opts.count;
  };

  /** Loops the XAUTOCLAIM cursor of every stream; a capacity of 0 pauses it where it is. */
  const claimRound = async (): Promise<void> => {
    for (const stream of streams) {
      let cursor = claimCursors.get(stream) ?? CLAIM_START;
      do {
        const count = capacityNow();
        if (count === 0 || stopping.signal.aborted) {
          claimCursors.set(stream, cursor);
          return;
        }
        // Abortable too: a claim that lands after being abandoned leaves its entries pending to this
        // consumer, and another consumer takes them over once they are idle again; none is lost.
        const page = await unlessAborted(
          claimIdleEntries(deps.redis, {
            stream,
            group,
            consumer,
            minIdleMs: opts.claimIdleMs,
            cursor,
            count,
          }),
          stopping.signal,
        );
        cursor = page.cursor;
        if (page.entries.length > 0) {
          logger.info({ stream, claimed: page.entries.length }, 'claimed idle entries');
          await processEntries(ctx, page.entries);
        }
      } while (cursor !== CLAIM_START);
      claimCursors.set(stream, CLAIM_START);
    }
  };

  const readOnce = async (count: number): Promise<void> => {
    // Never block past the next claim round, so takeover latency stays near claimEveryMs.
    const blockMs = Math.max(1, Math.min(opts.blockMs, nextClaimAt - Date.now()));
    const args = [
      'GROUP',
      group,
      consumer,
      'COUNT',
      count,
      'BLOCK',
      blockMs,
      'STREAMS',
      ...streams,
      ...streams.map(() => '>'),
    ];
    const reply = await connection.run(
      (client) => client.call('XREADGROUP', args),
      blockMs + WATCHDOG_GRACE_MS,
    );
    // Entries read with '>' are on their first delivery.
    const entries = parseReadReply('XREADGROUP', reply).map((entry) => ({ ...entry, deliveries: 1 }));
    if (entries.length > 0) await processEntries(ctx, entries);
  };

  const loop = async (): Promise<void> => {
    let groupsReady = false;
    let failures = 0;
    let missingGroups = 0;
    while (!stopping.signal.aborted) {
      try {
        if (!groupsReady) {
          // Abortable: with Redis unreachable the command waits in the offline queue, and a stop must not.
          await unlessAborted(ensureGroups(deps.redis, streams, group), stopping.signal);
          groupsReady = true;
        }
        if (Date.now() >= nextClaimAt) {
          await claimRound();
          nextClaimAt = Date.now() + opts.claimEveryMs;
        }
        const count = capacityNow();
        if (count === 0) {
          await latch.wait(
            Math.min(CAPACITY_POLL_MS, Math.max(1, nextClaimAt - Date.now())),
            stopping.signal,
          );
          continue;
        }
        await readOnce(count);
        failures = 0;
        missingGroups = 0;
      } catch (err) {
        if (stopping.signal.aborted) break;
        if (isNoGroupError(err)) {
          groupsReady = false;
          missingGroups += 1;
          logger.warn({ err, attempt: missingGroups }, 'consumer group missing; recreating');
          await sleep(computeBackoffMs(missingGroups - 1, BACKOFF_BASE_MS, BACKOFF_MAX_MS), stopping.signal);
          continue;
        }
        failures += 1;
        logError(
          err instanceof Error ? err.name : 'error',
          { err, attempt: failures },
          'consumer loop failed; backing off',
        );
        await sleep(computeBackoffMs(failures, BACKOFF_BASE_MS * 2, BACKOFF_MAX_MS), stopping.signal);
      }
    }
  };

  const done = loop().catch((err: unknown) => logger.fatal({ err }, 'consumer loop crashed'));
  let stopped: Promise<void> | null = null;

  return {
    stats,
    wake: () => latch.wake(),
    stop: () => {
      stopped ??= (async () => {
        stopping.abort();
        // Only a BLOCK in progress is interrupted; an in-flight batch finishes and is acked.
        connection.interrupt();
        await done;
        await connection.close();
        deps.onStopped();
      })();
      return stopped;
    },
  };
}
