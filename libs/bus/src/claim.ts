import type { Redis } from 'ioredis';
import type { PendingEntry } from './deliver.js';
import { parseAutoClaimReply, parsePendingDeliveries } from './entries.js';

/** First XAUTOCLAIM cursor. */
export const CLAIM_START = '0-0';

/**
 * One XAUTOCLAIM page: takes over entries of `stream` idle for at least `minIdleMs` (any consumer of
 * the group, this one included) and reads their delivery counters (XAUTOCLAIM increments them but
 * does not return them) with one pipelined `XPENDING s g id id 1` per entry.
 * Returns the next cursor (`0-0` when the scan is done) and the claimed entries still pending.
 */
export async function claimIdleEntries(
  redis: Redis,
  opts: { stream: string; group: string; consumer: string; minIdleMs: number; cursor: string; count: number },
): Promise<{ cursor: string; entries: PendingEntry[] }> {
  const reply = await redis.call('XAUTOCLAIM', [
    opts.stream,
    opts.group,
    opts.consumer,
    opts.minIdleMs,
    opts.cursor,
    'COUNT',
    opts.count,
  ]);
  const page = parseAutoClaimReply(opts.stream, reply);
  if (page.entries.length === 0) return { cursor: page.cursor, entries: [] };
  const pipeline = redis.pipeline();
  for (const entry of page.entries) pipeline.xpending(opts.stream, opts.group, entry.id, entry.id, 1);
  const results = (await pipeline.exec()) ?? [];
  const entries: PendingEntry[] = [];
  page.entries.forEach((entry, index) => {
    const [err, pending] = results[index] ?? [new Error('missing XPENDING result'), null];
    if (err) throw err;
    const deliveries = parsePendingDeliveries(pending);
    // Null: acked by someone else between the two calls; nothing left to do for it.
    if (deliveries !== null) entries.push({ ...entry, deliveries });
  });
  return { cursor: page.cursor, entries };
}
