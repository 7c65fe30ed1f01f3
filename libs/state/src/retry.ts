import { InvalidRetryInputError } from './errors.js';

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
 * The range of the jittered delay after failed attempt `attempt` (1-based). With the base delay
 * `d = floor(min(maxMs, initialMs * factor^(attempt - 1)))`, the bounds are
 * `[ceil(d / 2), d]`: never negative, never above `backoff.maxMs`. `maxMs` of the result is the
 * base delay itself, non-decreasing in `attempt` when `factor >= 1`.
 * @throws InvalidRetryInputError naming the field when an input is out of range.
 */
export function backoffBounds(attempt: number, backoff: Backoff): { minMs: number; maxMs: number } {
  checkInteger('attempt', attempt, 1);
  checkNumber('backoff.initialMs', backoff.initialMs, 'a finite number >= 0', (v) => v >= 0);
  checkNumber('backoff.factor', backoff.factor, 'a finite number > 0', (v) => v > 0);
  checkNumber('backoff.maxMs', backoff.maxMs, 'a finite number >= 0', (v) => v >= 0);
  // initialMs * factor^n may overflow to Infinity (capped by min); 0 * Infinity would be NaN.
  const uncapped = backoff.initialMs === 0 ? 0 : backoff.initialMs * backoff.factor ** (attempt - 1);
  const base = Math.floor(Math.min(backoff.maxMs, uncapped));
  return { minMs: Math.ceil(base / 2), maxMs: base };
}

/**
 * Decides whether a failed attempt runs again and after how long. No retry when the failure is
 * not retryable or `attempt >= maxAttempts`; otherwise the delay is drawn uniformly among the
 * whole milliseconds of {@link backoffBounds}: `[ceil(d / 2), d]` for base delay `d` ("equal
 * jitter": at least half the base delay, spreading retries of many tasks that failed together).
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
