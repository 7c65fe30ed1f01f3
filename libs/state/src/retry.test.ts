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
    [1, DEFAULT, 1000, 1100],
    [2, DEFAULT, 2000, 2200],
    [3, DEFAULT, 4000, 4400],
    [6, DEFAULT, 32_000, 35_200],
    [7, DEFAULT, 60_000, 60_000],
    [8, DEFAULT, 60_000, 60_000],
    [10_000, DEFAULT, 60_000, 60_000],
    [1, { initialMs: 0, factor: 2, maxMs: 1000 }, 0, 0],
    [5_000, { initialMs: 0, factor: 10, maxMs: 1000 }, 0, 0],
    [1, { initialMs: 5, factor: 1, maxMs: 1000 }, 5, 5],
    [1, { initialMs: 5000, factor: 2, maxMs: 1000 }, 1000, 1000],
    [1, { initialMs: 1000, factor: 2, maxMs: 1050 }, 1000, 1050],
    [1, { initialMs: 1000, factor: 2, maxMs: 1050.7 }, 1000, 1050],
    [3, { initialMs: 100, factor: 1.5, maxMs: 1000 }, 225, 247],
    [4, { initialMs: 100, factor: 1.5, maxMs: 1000 }, 338, 371],
    [3, { initialMs: 100, factor: 1.1, maxMs: 1000 }, 121, 133],
    [1, { initialMs: 0.5, factor: 2, maxMs: 1000 }, 1, 1],
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
    ['first failure of three', {}, { retry: true, delayMs: 1050 }],
    ['random 0 -> the backoff itself', { random: 0 }, { retry: true, delayMs: 1000 }],
    ['random just below 1 -> backoff + 10%', { random: 0.999_999 }, { retry: true, delayMs: 1100 }],
    ['random from a source', { attempt: 2, random: () => 0.25 }, { retry: true, delayMs: 2050 }],
    [
      'at the cap, no jitter above max',
      { attempt: 7, maxAttempts: 8, random: 0.999_999 },
      { retry: true, delayMs: 60_000 },
    ],
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
    const backoff = { initialMs: 50, factor: 2, maxMs: 1000 };
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) {
      const decision = decideRetry(input({ backoff, random: i / 1000 }));
      if (decision.retry) seen.add(decision.delayMs);
    }
    expect([...seen].sort((a, b) => a - b)).toEqual([50, 51, 52, 53, 54, 55]);
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
          // Jitter only upward, by at most 10% of the base delay.
          expect(decision.delayMs - bounds.minMs).toBeLessThanOrEqual(bounds.minMs / 10);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('never retries sooner than the backoff: initial * factor^(attempt - 1), capped at max', () => {
    // Durations are whole milliseconds (workflow parsing rejects `0.5ms`); the factor need not be whole.
    const wholeMsBackoff = fc.record({
      initialMs: fc.integer({ min: 0, max: 100_000 }),
      factor: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.double({ min: 1, max: 10, noNaN: true })),
      maxMs: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    });
    fc.assert(
      fc.property(
        wholeMsBackoff,
        fc.integer({ min: 1, max: 100 }),
        arbitraryRandom,
        (backoff, attempt, random) => {
          const decision = decideRetry({
            attempt,
            maxAttempts: attempt + 1,
            backoff,
            retryable: true,
            random,
          });
          if (!decision.retry) return expect.unreachable('a retry was expected');
          const backoffMs = Math.min(backoff.maxMs, backoff.initialMs * backoff.factor ** (attempt - 1));
          // The tolerance only absorbs binary noise of the exponentiation (100 * 1.1^2 = 121.00000000000001).
          expect(decision.delayMs).toBeGreaterThanOrEqual(backoffMs - 1e-6);
          expect(decision.delayMs).toBeLessThanOrEqual(backoff.maxMs);
          expect(decision.delayMs).toBeLessThanOrEqual(Math.ceil(backoffMs) * 1.1);
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
