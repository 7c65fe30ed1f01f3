/**
 * Pure core of the reconciler's "is the event gone?" decision. A stream entry id starts with the
 * Redis clock in ms, so a consumer group's state yields a watermark W (Redis clock): every entry
 * published before W has been delivered to the group and acknowledged, or is no longer in the stream
 * (trimmed, or lost with Redis's data) and pending nowhere. An event published before W that has not
 * moved its row on is therefore gone for good.
 */

/** What XINFO STREAM / XINFO GROUPS / XPENDING say about one stream and one consumer group. */
export interface StreamState {
  /** False when the key does not exist (Redis lost its data, or nothing was ever published). */
  exists: boolean;
  /** Id of the oldest entry still in the stream; null when empty. */
  firstEntryId: string | null;
  lastGeneratedId: string | null;
  /** The consumer group; null when it does not exist (no consumer has started since the data was lost). */
  group: {
    lastDeliveredId: string;
    pending: number;
    smallestPendingId: string | null;
    /** Entries not yet delivered to the group (XINFO GROUPS `lag`; null when Redis cannot tell). */
    lag?: number | null;
  } | null;
}

/** The ms part of a stream entry id (`1700000000000-3` -> 1700000000000); `0-0` -> 0. */
export function entryIdMs(id: string): number {
  const ms = Number(id.split('-')[0]);
  if (!Number.isFinite(ms)) throw new RangeError(`not a stream entry id: ${JSON.stringify(id)}`);
  return ms;
}

/** Compares two entry ids (`ms-seq`) numerically. */
export function compareEntryIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am !== bm ? am - bm : as - bs;
}

/**
 * The watermark (Redis clock, ms; Infinity = everything ever published is done or gone):
 * - no stream: Infinity;
 * - no group: the oldest entry (a group created later reads from 0, so entries still there will be
 *   delivered; older ones are gone), Infinity when empty;
 * - a group: min(oldest pending entry, first undelivered entry), where "undelivered" starts after
 *   last-delivered-id (or at the first entry, when trimming removed undelivered ones).
 */
export function ackedWatermark(state: StreamState): number {
  if (!state.exists) return Number.POSITIVE_INFINITY;
  const first = state.firstEntryId;
  if (!state.group) return first === null ? Number.POSITIVE_INFINITY : entryIdMs(first);
  const { lastDeliveredId, pending, smallestPendingId } = state.group;
  let undelivered = Number.POSITIVE_INFINITY;
  const last = state.lastGeneratedId;
  if (last !== null && first !== null && compareEntryIds(lastDeliveredId, last) < 0) {
    // Entries in the same ms as last-delivered-id may be undelivered: the boundary is that ms.
    undelivered = Math.max(entryIdMs(lastDeliveredId), entryIdMs(first));
  }
  const oldestPending =
    pending > 0 && smallestPendingId !== null ? entryIdMs(smallestPendingId) : Number.POSITIVE_INFINITY;
  return Math.min(undelivered, oldestPending);
}

/**
 * True when the event that should have moved a row on is gone: it was published (by the database
 * clock) at `expectedAtMs` or a little after (`slackMs` covers the commit-to-publish delay), and the
 * watermark has passed that moment. `redisOffsetMs` = Redis clock - database clock.
 */
export function isEventGone(
  expectedAtMs: number,
  watermarkMs: number,
  redisOffsetMs: number,
  slackMs: number,
): boolean {
  return expectedAtMs + redisOffsetMs + slackMs < watermarkMs;
}
