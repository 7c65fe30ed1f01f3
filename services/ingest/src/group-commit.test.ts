import { describe, expect, it } from 'vitest';
import { createGroupCommit, ItemExpiredError } from './group-commit.js';

// A flush that records each batch and answers each item with its double; `gate` holds a batch open.
function recorder(opts: { gate?: () => Promise<void>; fail?: (items: number[]) => Error | undefined } = {}) {
  const batches: number[][] = [];
  const flush = async (items: number[]): Promise<number[]> => {
    batches.push(items);
    await opts.gate?.();
    const err = opts.fail?.(items);
    if (err) throw err;
    return items.map((n) => n * 2);
  };
  return { batches, flush };
}

/** A gate that holds the first batch open until `release()`; later batches pass. */
function holdFirstBatch() {
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let first = true;
  const gate = () => {
    if (!first) return Promise.resolve();
    first = false;
    return held;
  };
  return { gate, release: () => release() };
}

describe('createGroupCommit', () => {
  it('flushes a lone item by itself, without waiting for company', async () => {
    const { batches, flush } = recorder();
    const commit = createGroupCommit({ flush, maxItems: 10 });
    expect(await commit.add(21)).toBe(42);
    expect(batches).toEqual([[21]]);
  });

  it('items added in the same turn share one batch; each caller gets its own result', async () => {
    const { batches, flush } = recorder();
    const commit = createGroupCommit({ flush, maxItems: 10 });
    expect(await Promise.all([1, 2, 3, 4].map((n) => commit.add(n)))).toEqual([2, 4, 6, 8]);
    expect(batches).toEqual([[1, 2, 3, 4]]);
  });

  it('items added while a batch is in flight go out together as soon as it ends', async () => {
    const { gate, release } = holdFirstBatch();
    const { batches, flush } = recorder({ gate });
    const commit = createGroupCommit({ flush, maxItems: 10 });
    const early = commit.add(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([[1]]);
    const late = [2, 3, 4].map((n) => commit.add(n));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(batches).toHaveLength(1);
    release();
    expect(await Promise.all([early, ...late])).toEqual([2, 4, 6, 8]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('drops an item whose caller gave up while it waited, and flushes the rest', async () => {
    const { gate, release } = holdFirstBatch();
    const { batches, flush } = recorder({ gate });
    const commit = createGroupCommit({ flush, maxItems: 10 });
    const early = commit.add(1, Date.now() + 10); // in flight when it expires: written regardless
    await new Promise((resolve) => setImmediate(resolve));
    const expiring = commit.add(2, Date.now() + 10);
    const patient = commit.add(3, Date.now() + 60_000);
    const forever = commit.add(4);
    await new Promise((resolve) => setTimeout(resolve, 30));
    release();
    await expect(expiring).rejects.toBeInstanceOf(ItemExpiredError);
    expect(await Promise.all([early, patient, forever])).toEqual([2, 6, 8]);
    expect(batches).toEqual([[1], [3, 4]]);
  });

  it('splits a batch larger than maxItems, in arrival order', async () => {
    const { batches, flush } = recorder();
    const commit = createGroupCommit({ flush, maxItems: 3 });
    const items = [1, 2, 3, 4, 5, 6, 7];
    expect(await Promise.all(items.map((n) => commit.add(n)))).toEqual(items.map((n) => n * 2));
    expect(batches).toEqual([[1, 2, 3], [4, 5, 6], [7]]);
  });

  it('splits by weight; an item heavier than maxWeight still goes, alone', async () => {
    const { batches, flush } = recorder();
    const commit = createGroupCommit({ flush, maxItems: 100, maxWeight: 10, weightOf: (n: number) => n });
    await Promise.all([4, 5, 30, 2, 9].map((n) => commit.add(n)));
    expect(batches).toEqual([[4, 5], [30], [2], [9]]);
  });

  it('a failed batch rejects its own items only', async () => {
    const boom = new Error('boom');
    const { batches, flush } = recorder({ fail: (items) => (items.includes(2) ? boom : undefined) });
    const commit = createGroupCommit({ flush, maxItems: 2 });
    const outcomes = await Promise.allSettled([1, 2, 3, 4].map((n) => commit.add(n)));
    expect(batches).toEqual([
      [1, 2],
      [3, 4],
    ]);
    expect(outcomes).toEqual([
      { status: 'rejected', reason: boom },
      { status: 'rejected', reason: boom },
      { status: 'fulfilled', value: 6 },
      { status: 'fulfilled', value: 8 },
    ]);
  });

  it('with isolate, a failed batch is retried item by item so only the bad item fails', async () => {
    const bad = new Error('bad row');
    const { batches, flush } = recorder({ fail: (items) => (items.includes(13) ? bad : undefined) });
    const commit = createGroupCommit({ flush, maxItems: 10, isolate: (err) => err === bad });
    const outcomes = await Promise.allSettled([12, 13, 14].map((n) => commit.add(n)));
    expect(outcomes).toEqual([
      { status: 'fulfilled', value: 24 },
      { status: 'rejected', reason: bad },
      { status: 'fulfilled', value: 28 },
    ]);
    expect(batches).toEqual([[12, 13, 14], [12], [13], [14]]);
  });

  it('without isolate for that error, the whole batch fails once', async () => {
    const down = new Error('unreachable');
    const { batches, flush } = recorder({ fail: () => down });
    const commit = createGroupCommit({ flush, maxItems: 10, isolate: () => false });
    const outcomes = await Promise.allSettled([1, 2].map((n) => commit.add(n)));
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(batches).toEqual([[1, 2]]);
  });

  it('keeps working after a failed batch', async () => {
    let failing = true;
    const { flush } = recorder({ fail: () => (failing ? new Error('once') : undefined) });
    const commit = createGroupCommit({ flush, maxItems: 10 });
    await expect(commit.add(1)).rejects.toThrow('once');
    failing = false;
    expect(await commit.add(2)).toBe(4);
  });
});
