import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTestBus, type TestBus } from '../test/helpers.js';
import { InvalidBusOptionError } from './index.js';

let t: TestBus;
beforeEach(() => {
  t = createTestBus();
});
afterEach(async () => {
  await t.cleanup();
});

describe('delayed set', () => {
  it('pops only due members, earliest first, and reports the next due time', async () => {
    const { delayed } = t.bus;
    expect(await delayed.nextDueAtMs()).toBeNull();
    await delayed.add([
      { member: 'c', dueAtMs: 3000 },
      { member: 'a', dueAtMs: 1000 },
      { member: 'b', dueAtMs: 2000 },
    ]);
    expect(await delayed.nextDueAtMs()).toBe(1000);
    expect(await delayed.popDue(500, 10)).toEqual([]);
    expect(await delayed.popDue(2000, 10)).toEqual(['a', 'b']);
    expect(await delayed.nextDueAtMs()).toBe(3000);
    expect(await delayed.popDue(5000, 10)).toEqual(['c']);
    expect(await delayed.nextDueAtMs()).toBeNull();
  });

  it('reschedules a member added twice and respects the limit', async () => {
    const { delayed } = t.bus;
    await delayed.add([{ member: 'x', dueAtMs: 100 }]);
    await delayed.add([{ member: 'x', dueAtMs: 900 }]);
    expect(await delayed.popDue(500, 10)).toEqual([]);
    await delayed.add(Array.from({ length: 5 }, (_, i) => ({ member: `m${i}`, dueAtMs: i })));
    expect(await delayed.popDue(1000, 2)).toEqual(['m0', 'm1']);
  });

  it('never pops a member twice under two concurrent pollers', async () => {
    const total = 3000;
    await t.bus.delayed.add(Array.from({ length: total }, (_, i) => ({ member: `m${i}`, dueAtMs: i })));
    const other = t.openBus().delayed;
    const poll = async (set: typeof other): Promise<string[]> => {
      const popped: string[] = [];
      for (;;) {
        const batch = await set.popDue(total, 37);
        if (batch.length === 0) return popped;
        popped.push(...batch);
      }
    };
    const [a, b] = await Promise.all([poll(t.bus.delayed), poll(other)]);
    expect(a.length + b.length).toBe(total);
    expect(new Set([...a, ...b]).size).toBe(total);
    expect(a.length).toBeGreaterThan(0);
    expect(b.length).toBeGreaterThan(0);
  });

  it('pops more than a Lua stack of members in one call', async () => {
    await t.bus.delayed.add(Array.from({ length: 10_000 }, (_, i) => ({ member: `m${i}`, dueAtMs: 1 })));
    expect(await t.bus.delayed.popDue(1, 10_000)).toHaveLength(10_000);
  });

  it.each([0, -1, 1.5])('rejects limit %s', async (limit) => {
    await expect(t.bus.delayed.popDue(1, limit)).rejects.toBeInstanceOf(InvalidBusOptionError);
  });
});
