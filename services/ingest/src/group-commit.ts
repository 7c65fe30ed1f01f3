/** Options of {@link createGroupCommit}. */
export interface GroupCommitOptions<TItem, TResult> {
  /** Handles one batch; resolves with one result per item, in the items' order. */
  flush(items: TItem[]): Promise<TResult[]>;
  maxItems: number;
  /** Upper bound of the summed `weightOf` of a batch (e.g. characters of JSON); unbounded by default. */
  maxWeight?: number;
  weightOf?: (item: TItem) => number;
  /**
   * True when a failed batch should be retried item by item, each alone, so that an item the batch's
   * statement rejects (bad data) fails only its own caller. False (the default) fails every item of the
   * batch with the error, as for an unreachable dependency, where retrying would only wait longer.
   */
  isolate?: (err: unknown) => boolean;
}

/** Adds items to the current batch; each caller gets its own item's result or the error of its batch. */
export interface GroupCommit<TItem, TResult> {
  /**
   * Queues `item`. With `expiresAt` (epoch ms), an item still queued at that time is dropped, never
   * flushed, and its promise rejects with {@link ItemExpiredError}: its caller has given up (answered a
   * timeout), and writing it after that would do what the caller was told failed.
   */
  add(item: TItem, expiresAt?: number): Promise<TResult>;
}

/** A queued item's time ran out before its batch was flushed; it was not written. */
export class ItemExpiredError extends Error {
  override name = 'ItemExpiredError';
  constructor() {
    super('dropped from the queue: its caller stopped waiting before it was written');
  }
}

interface Pending<TItem, TResult> {
  item: TItem;
  weight: number;
  expiresAt: number;
  resolve(result: TResult): void;
  reject(err: unknown): void;
}

/**
 * Group commit: items added while one batch is in flight wait and go out together in the next one.
 *
 * The first item after a quiet spell is flushed at the end of the current event-loop turn
 * (`setImmediate`, no timer), so a lone request waits microseconds, while a burst of concurrent requests
 * is written as a few set-based statements instead of one round trip each. One batch is in flight at a
 * time; the next starts as soon as it ends, with everything queued meanwhile, up to `maxItems` items and
 * `maxWeight` (one item always fits).
 */
export function createGroupCommit<TItem, TResult>(
  opts: GroupCommitOptions<TItem, TResult>,
): GroupCommit<TItem, TResult> {
  const maxWeight = opts.maxWeight ?? Number.POSITIVE_INFINITY;
  const queue: Pending<TItem, TResult>[] = [];
  let running = false;

  // Takes the oldest items that fit the bounds, after dropping the expired ones; the first always fits.
  const take = (): Pending<TItem, TResult>[] => {
    const now = Date.now();
    for (let i = queue.length - 1; i >= 0; i -= 1) {
      const pending = queue[i] as Pending<TItem, TResult>;
      if (pending.expiresAt <= now) {
        queue.splice(i, 1);
        pending.reject(new ItemExpiredError());
      }
    }
    let count = 0;
    let weight = 0;
    for (const pending of queue) {
      if (count > 0 && (count === opts.maxItems || weight + pending.weight > maxWeight)) break;
      count += 1;
      weight += pending.weight;
    }
    return queue.splice(0, count);
  };

  const settle = async (batch: Pending<TItem, TResult>[]): Promise<void> => {
    let results: TResult[];
    try {
      results = await opts.flush(batch.map((pending) => pending.item));
    } catch (err) {
      if (batch.length > 1 && opts.isolate?.(err)) {
        await Promise.all(batch.map((pending) => settle([pending])));
        return;
      }
      for (const pending of batch) pending.reject(err);
      return;
    }
    for (const [index, pending] of batch.entries()) pending.resolve(results[index] as TResult);
  };

  const drain = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = take();
      if (batch.length > 0) await settle(batch);
    }
    running = false;
  };

  return {
    add(item, expiresAt = Number.POSITIVE_INFINITY) {
      return new Promise<TResult>((resolve, reject) => {
        queue.push({ item, weight: opts.weightOf?.(item) ?? 0, expiresAt, resolve, reject });
        if (!running) {
          running = true;
          setImmediate(() => void drain());
        }
      });
    },
  };
}
