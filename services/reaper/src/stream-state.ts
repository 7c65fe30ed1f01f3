import type { Redis } from '@relay/runtime';
import type { StreamState } from './watermark.js';

/** Reads a flat [k1, v1, k2, v2, ...] Redis reply into a map. */
function pairs(reply: unknown): Map<string, unknown> {
  const map = new Map<string, unknown>();
  if (!Array.isArray(reply)) return map;
  for (let i = 0; i + 1 < reply.length; i += 2) map.set(String(reply[i]), reply[i + 1]);
  return map;
}

/**
 * The state of `key` and its consumer group `group` (XINFO STREAM, XINFO GROUPS, and XPENDING when
 * something is pending). A missing key is `exists: false`, a missing group `group: null`.
 */
export async function readStreamState(redis: Redis, key: string, group: string): Promise<StreamState> {
  let info: Map<string, unknown>;
  try {
    info = pairs(await redis.call('XINFO', 'STREAM', key));
  } catch (err) {
    if (err instanceof Error && /no such key/i.test(err.message)) {
      return { exists: false, firstEntryId: null, lastGeneratedId: null, group: null };
    }
    throw err;
  }
  const first = info.get('first-entry');
  const firstEntryId = Array.isArray(first) && first.length > 0 ? String(first[0]) : null;
  const lastGenerated = info.get('last-generated-id');
  const lastGeneratedId = typeof lastGenerated === 'string' ? lastGenerated : null;
  const groups = (await redis.call('XINFO', 'GROUPS', key)) as unknown[];
  const found = groups.map(pairs).find((g) => g.get('name') === group);
  if (!found) return { exists: true, firstEntryId, lastGeneratedId, group: null };
  const pending = Number(found.get('pending') ?? 0);
  const lag = found.get('lag');
  let smallestPendingId: string | null = null;
  if (pending > 0) {
    const summary = (await redis.call('XPENDING', key, group)) as unknown[];
    smallestPendingId = typeof summary[1] === 'string' ? summary[1] : null;
  }
  return {
    exists: true,
    firstEntryId,
    lastGeneratedId,
    group: {
      lastDeliveredId: String(found.get('last-delivered-id') ?? '0-0'),
      pending,
      smallestPendingId,
      lag: typeof lag === 'number' ? lag : null,
    },
  };
}

/** Redis's clock in epoch ms (TIME). */
export async function readRedisTimeMs(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}
