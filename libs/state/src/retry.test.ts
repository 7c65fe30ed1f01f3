import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidRetryInputError } from './errors.js';
import { type Backoff, backoffBounds, decideRetry, type RetryInput } from './retry.js';

const DEFAULT: Backoff = { initialMs: 1000, factor: 2, maxMs: 60_000 };
const input = (over: Partial<RetryInput> = {}): RetryInput => ({
  attempt: 1,
  maxAttempts: 3,
  backoff: DEFAULT,
  retryable: true,
  random: 0.5,
  ...over,
});

const arbitraryBackoff = fc.record({
  initialMs: fc.oneof(fc.integer({ min: 0, max: 100_000 }), fc.double({ min: 0, max: 1e6, noNaN: true })),
  factor: fc.double({ min: 1, max: 10, noNaN: true }),
  maxMs: fc.oneof(fc.integer({ min: 0, max: 10_000_000 }), fc.double({ min: 0, max: 1e7, noNaN: true })),
});
const arbitraryRandom = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe('backoffBounds', () => {
  it.each<[number, Backoff, number, number]>([
    [1, DEFAULT, 500, 1000],
    [2, DEFAULT, 1000, 2000],
    [3, DEFAULT, 2000, 4000],
    [7, DEFAULT, 30_000, 60_000],
    [8, DEFAULT, 30_000, 60_000],
    [10_000, DEFAULT, 30_000, 60_000],
    [1, { initialMs: 0, factor: 2, maxMs: 1000 }, 0, 0],
    [5_000, { initialMs: 0, factor: 10, maxMs: 1000 }, 0, 0],
    [1, { initialMs: 5, factor: 1, maxMs: 1000 }, 3, 5],
    [1, { initialMs: 5000, factor: 2, maxMs: 1000 }, 500, 1000],
    [3, { initialMs: 100, factor: 1.5, maxMs: 1000 }, 113, 225],
  ])('attempt %d with %j -> [%d, %d]', (attempt, backoff, minMs, maxMs) => {
    expect(backoffBounds(attempt, backoff)).toEqual({ minMs, maxMs });
  });

  it.each<[number, Backoff, string]>([
    [0, DEFAULT, 'attempt'],
    [1.5, DEFAULT, 'attempt'],
    [1, { ...DEFAULT, initialMs: -1 }, 'backoff.initialMs'],
    [1, { ...DEFAULT, initialMs: Number.NaN }, 'backoff.initialMs'],
    [1, { ...DEFAULT, factor: 0 }, 'backoff.factor'],
    [1, { ...DEFAULT, factor: Number.POSITIVE_INFINITY }, 'backoff.factor'],
    [1, { ...DEFAULT, maxMs: -5 }, 'backoff.maxMs'],
  ])('rejects attempt %d with %j, naming %s', (attempt, backoff, field) => {
    expect(() => backoffBounds(attempt, backoff)).toThrow(InvalidRetryInputError);
    expect(() => backoffBounds(attempt, backoff)).toThrow(`invalid ${field}:`);
  });

  it('has a base delay that never decreases with the attempt (factor >= 1)', () => {
    fc.assert(
      fc.property(arbitraryBackoff, fc.integer({ min: 1, max: 200 }), (backoff, attempt) => {
        const now = backoffBounds(attempt, backoff);
        const next = backoffBounds(attempt + 1, backoff);
        expect(next.maxMs).toBeGreaterThanOrEqual(now.maxMs);
        expect(next.minMs).toBeGreaterThanOrEqual(now.minMs);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('decideRetry', () => {
  it.each<[string, Partial<RetryInput>, ReturnType<typeof decideRetry>]>([
    ['first failure of three', {}, { retry: true, delayMs: 750 }],
    ['random 0 -> lower bound', { random: 0 }, { retry: true, delayMs: 500 }],
    ['random just below 1 -> upper bound', { random: 0.999_999 }, { retry: true, delayMs: 1000 }],
    ['random from a source', { attempt: 2, random: () => 0.25 }, { retry: true, delayMs: 1250 }],
    ['last attempt failed', { attempt: 3 }, { retry: false, reason: 'attempts-exhausted' }],
    ['no retries configured', { maxAttempts: 1 }, { retry: false, reason: 'attempts-exhausted' }],
    ['past the last attempt', { attempt: 4 }, { retry: false, reason: 'attempts-exhausted' }],
    ['not retryable', { retryable: false }, { retry: false, reason: 'not-retryable' }],
    [
      'not retryable on the last attempt',
      { attempt: 3, retryable: false },
      { retry: false, reason: 'not-retryable' },
    ],
  ])('%s', (_name, over, expected) => {
    expect(decideRetry(input(over))).toEqual(expected);
  });

  it('draws from the random source only when a retry follows', () => {
    let calls = 0;
    const random = () => {
      calls++;
      return 0.5;
    };
    decideRetry(input({ attempt: 3, random }));
    decideRetry(input({ retryable: false, random }));
    expect(calls).toBe(0);
    decideRetry(input({ random }));
    expect(calls).toBe(1);
  });

  it('reaches every whole millisecond of the bounds', () => {
    const backoff = { initialMs: 10, factor: 2, maxMs: 100 };
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const decision = decideRetry(input({ backoff, random: i / 1000 }));
      if (decision.retry) seen.add(decision.delayMs);
    }
    expect([...seen].sort((a, b) => a - b)).toEqual([5, 6, 7, 8, 9, 10]);
  });

  it.each<[Partial<RetryInput>, string]>([
    [{ maxAttempts: 0 }, 'maxAttempts'],
    [{ maxAttempts: 2.5 }, 'maxAttempts'],
    [{ attempt: 0 }, 'attempt'],
    [{ random: 1 }, 'random'],
    [{ random: -0.1 }, 'random'],
    [{ random: () => Number.NaN }, 'random'],
    [{ backoff: { ...DEFAULT, factor: -2 } }, 'backoff.factor'],
  ])('rejects %j, naming %s', (over, field) => {
    expect(() => decideRetry(input(over))).toThrow(new RegExp(`^invalid ${field.replace('.', '\\.')}:`));
  });

  it('keeps every delay within its bounds, never negative, never above maxMs', () => {
    fc.assert(
      fc.property(
        arbitraryBackoff,
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 101 }),
        arbitraryRandom,
        fc.boolean(),
        (backoff, attempt, maxAttempts, random, retryable) => {
          const decision = decideRetry({ attempt, maxAttempts, backoff, retryable, random });
          expect(decision.retry).toBe(retryable && attempt < maxAttempts);
          if (!decision.retry) return;
          const bounds = backoffBounds(attempt, backoff);
          expect(Number.isInteger(decision.delayMs)).toBe(true);
          expect(decision.delayMs).toBeGreaterThanOrEqual(bounds.minMs);
          expect(decision.delayMs).toBeLessThanOrEqual(bounds.maxMs);
          expect(decision.delayMs).toBeGreaterThanOrEqual(0);
          expect(decision.delayMs).toBeLessThanOrEqual(backoff.maxMs);
          expect(bounds.minMs).toBeGreaterThanOrEqual(bounds.maxMs / 2);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('is monotone in random', () => {
    fc.assert(
      fc.property(
        arbitraryBackoff,
        fc.integer({ min: 1, max: 30 }),
        arbitraryRandom,
        arbitraryRandom,
        (b, a, r1, r2) => {
          const [lo, hi] = r1 <= r2 ? [r1, r2] : [r2, r1];
          const d1 = decideRetry({ attempt: a, maxAttempts: a + 1, backoff: b, retryable: true, random: lo });
          const d2 = decideRetry({ attempt: a, maxAttempts: a + 1, backoff: b, retryable: true, random: hi });
          if (d1.retry && d2.retry) expect(d1.delayMs).toBeLessThanOrEqual(d2.delayMs);
          else expect.unreachable('a retry was expected');
        },
      ),
    );
  });
});
