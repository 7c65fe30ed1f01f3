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
  add(item: TItem): Promise<TResult>;
}

interface Pending<TItem, TResult> {
  item: TItem;
  weight: number;
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

  // Takes the oldest items that fit the bounds; the first one always fits.
  const take = (): Pending<TItem, TResult>[] => {
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
    while (queue.length > 0) await settle(take());
    running = false;
  };

  return {
    add(item) {
      return new Promise<TResult>((resolve, reject) => {
        queue.push({ item, weight: opts.weightOf?.(item) ?? 0, resolve, reject });
        if (!running) {
          running = true;
          setImmediate(() => void drain());
        }
      });
    },
  };
}
