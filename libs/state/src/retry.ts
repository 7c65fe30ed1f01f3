import { InvalidRetryInputError } from './errors.js';

/** How far from a whole millisecond a computed delay may be and still count as that millisecond. */
const ROUNDING_NOISE_MS = 1e-6;

/** Exponential backoff settings of a task (normalized, in milliseconds). */
export interface Backoff {
  /** Base delay after the first failed attempt; >= 0. */
  readonly initialMs: number;
  /** Growth per further attempt; > 0 (the base delay never decreases when >= 1). */
  readonly factor: number;
  /** Cap of the delay; >= 0. */
  readonly maxMs: number;
}

/** Input of {@link decideRetry}. */
export interface RetryInput {
  /** The attempt that just failed, 1-based. */
  readonly attempt: number;
  /** Attempts allowed in all (`retries + 1`), >= 1. */
  readonly maxAttempts: number;
  readonly backoff: Backoff;
  /** False for permanent failures: no retry whatever attempts are left. */
  readonly retryable: boolean;
  /** A number in [0, 1), or a source of them (called once, and only when a retry follows). */
  readonly random: number | (() => number);
}

/** Why no retry follows. */
export type NoRetryReason = 'not-retryable' | 'attempts-exhausted';

/** Outcome of {@link decideRetry}. */
export type RetryDecision =
  | { readonly retry: true; readonly delayMs: number }
  | { readonly retry: false; readonly reason: NoRetryReason };

/**
 * The range of the jittered delay after failed attempt `attempt` (1-based). The base delay is the
 * configured backoff, `initialMs * factor^(attempt - 1)` capped at `backoff.maxMs`, rounded up to a
 * whole millisecond: `d = min(floor(maxMs), ceil(initialMs * factor^(attempt - 1)))`. The bounds
 * are `[d, min(floor(maxMs), d + floor(d / 10))]`: jitter only adds, at most 10% of `d`, so a retry
 * never starts before its backoff and never waits more than `backoff.maxMs`. Both bounds are
 * non-decreasing in `attempt` when `factor >= 1`.
 * @throws InvalidRetryInputError naming the field when an input is out of range.
 */
export function backoffBounds(attempt: number, backoff: Backoff): { minMs: number; maxMs: number } {
  checkInteger('attempt', attempt, 1);
  checkNumber('backoff.initialMs', backoff.initialMs, 'a finite number >= 0', (v) => v >= 0);
  checkNumber('backoff.factor', backoff.factor, 'a finite number > 0', (v) => v > 0);
  checkNumber('backoff.maxMs', backoff.maxMs, 'a finite number >= 0', (v) => v >= 0);
  // initialMs * factor^n may overflow to Infinity (capped by min); 0 * Infinity would be NaN.
  const uncapped = backoff.initialMs === 0 ? 0 : backoff.initialMs * backoff.factor ** (attempt - 1);
  // Round up: the delay may not fall short of the backoff (binary noise such as 100 * 1.1^2 =
  // 121.00000000000001 is absorbed, not rounded up to 122); floor(maxMs): nor exceed the cap.
  const nearest = Math.round(uncapped);
  const whole = Math.abs(uncapped - nearest) <= ROUNDING_NOISE_MS ? nearest : Math.ceil(uncapped);
  const cap = Math.floor(backoff.maxMs);
  const base = Math.min(cap, whole);
  return { minMs: base, maxMs: Math.min(cap, base + Math.floor(base / 10)) };
}

/**
 * Decides whether a failed attempt runs again and after how long. No retry when the failure is
 * not retryable or `attempt >= maxAttempts`; otherwise the delay is drawn uniformly among the
 * whole milliseconds of {@link backoffBounds}: `[d, d + floor(d / 10)]` for base delay `d`, capped at
 * `backoff.maxMs` (upward jitter only: never sooner than the backoff, and up to 10% later, spreading
 * retries of many tasks that failed together).
 * @throws InvalidRetryInputError naming the field when an input is out of range.
 */
export function decideRetry(input: RetryInput): RetryDecision {
  checkInteger('maxAttempts', input.maxAttempts, 1);
  const bounds = backoffBounds(input.attempt, input.backoff);
  if (!input.retryable) return { retry: false, reason: 'not-retryable' };
  if (input.attempt >= input.maxAttempts) return { retry: false, reason: 'attempts-exhausted' };
  const random = typeof input.random === 'function' ? input.random() : input.random;
  checkNumber('random', random, 'a number in [0, 1)', (v) => v >= 0 && v < 1);
  const span = bounds.maxMs - bounds.minMs + 1;
  // The min() only guards against floating-point rounding of random * span up to span.
  return { retry: true, delayMs: Math.min(bounds.maxMs, bounds.minMs + Math.floor(random * span)) };
}

function checkInteger(field: string, value: number, min: number): void {
  checkNumber(field, value, `an integer >= ${min}`, (v) => Number.isInteger(v) && v >= min);
}

function checkNumber(field: string, value: number, expected: string, isValid: (v: number) => boolean): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || !isValid(value)) {
    throw new InvalidRetryInputError(field, value, expected);
  }
}
