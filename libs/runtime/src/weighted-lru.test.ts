import { describe, expect, it } from 'vitest';
import { WeightedLru } from './weighted-lru.js';

/** Replays `ops` on a fresh cache; returns the keys held (least recent first) and the total weight. */
function replay(
  maxWeight: number,
  ops: ([op: 'set', key: string, weight: number] | [op: 'get', key: string])[],
) {
  const lru = new WeightedLru<string, string>(maxWeight);
  const hits: (string | undefined)[] = [];
  for (const op of ops) {
    if (op[0] === 'set') lru.set(op[1], `v-${op[1]}`, op[2]);
    else hits.push(lru.get(op[1]));
  }
  const held = ['a', 'b', 'c', 'big'].filter((k) => lru.get(k) !== undefined);
  return { held, weight: lru.weight, size: lru.size, hits };
}

describe('WeightedLru', () => {
  it('keeps everything while the total weight fits', () => {
    expect(
      replay(10, [
        ['set', 'a', 3],
        ['set', 'b', 3],
        ['set', 'c', 4],
      ]),
    ).toMatchObject({ held: ['a', 'b', 'c'], weight: 10, size: 3 });
  });

  it('evicts the least recently used first, a get counting as a use', () => {
    const r = replay(7, [
      ['set', 'a', 3],
      ['set', 'b', 3],
      ['get', 'a'],
      ['set', 'c', 3],
    ]);
    expect(r).toMatchObject({ held: ['a', 'c'], weight: 6, hits: ['v-a'] });
  });

  it('evicts as many as the incoming weight needs', () => {
    expect(
      replay(10, [
        ['set', 'a', 3],
        ['set', 'b', 3],
        ['set', 'c', 3],
        ['set', 'big', 9],
      ]),
    ).toMatchObject({ held: ['big'], weight: 9, size: 1 });
  });

  it('keeps an entry heavier than the bound alone, until the next one evicts it', () => {
    const lru = new WeightedLru<string, number>(5);
    lru.set('a', 1, 2);
    lru.set('big', 2, 8);
    expect({ size: lru.size, weight: lru.weight, big: lru.get('big'), a: lru.get('a') }).toEqual({
      size: 1,
      weight: 8,
      big: 2,
      a: undefined,
    });
    lru.set('a', 1, 2);
    expect({ size: lru.size, weight: lru.weight, big: lru.get('big') }).toEqual({
      size: 1,
      weight: 2,
      big: undefined,
    });
  });

  it('replaces a key in place of its old weight', () => {
    const lru = new WeightedLru<string, string>(10);
    lru.set('a', 'one', 4);
    lru.set('b', 'two', 4);
    lru.set('a', 'three', 6);
    expect({ a: lru.get('a'), b: lru.get('b'), weight: lru.weight }).toEqual({
      a: 'three',
      b: 'two',
      weight: 10,
    });
    expect(lru.delete('a')).toBe(true);
    expect(lru.delete('a')).toBe(false);
    expect(lru.weight).toBe(4);
  });

  it('refuses a bound or a weight that is not a number it can hold', () => {
    expect(() => new WeightedLru(0)).toThrow(/maxWeight must be positive, got 0/);
    expect(() => new WeightedLru(Number.NaN)).toThrow(/maxWeight/);
    expect(() => new WeightedLru(5).set('a', 1, -1)).toThrow(/weight must be >= 0, got -1/);
  });
});
