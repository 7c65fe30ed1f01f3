import type { Logger } from '@relay/runtime';
import { AbortedWaitError } from './errors.js';

/** Exponential backoff: `baseMs * 2^(attempt-1)`, capped at `maxMs`, with up to 20% jitter subtracted. */
export function computeBackoffMs(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random = Math.random,
): number {
  if (attempt <= 0) return 0;
  const raw = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  return Math.round(raw * (1 - 0.2 * random()));
}

/** Resolves after `ms`, or earlier when `signal` aborts (never rejects). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) {
      resolve();
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * `work`'s result, or AbortedWaitError as soon as `signal` aborts: a stop must not wait on a command
 * sitting in a client's offline queue while Redis is unreachable. `work` itself runs on (its late
 * result or error is dropped).
 */
export function unlessAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => {});
    return Promise.reject(new AbortedWaitError());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AbortedWaitError());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

/** Logs an error at most once per `intervalMs` per key, reporting how many were suppressed meanwhile. */
export function createRateLimitedErrorLog(
  logger: Logger,
  intervalMs = 5000,
  now: () => number = Date.now,
): (key: string, fields: Record<string, unknown>, message: string) => void {
  const lastAt = new Map<string, { at: number; suppressed: number }>();
  return (key, fields, message) => {
    const t = now();
    const last = lastAt.get(key);
    if (last && t - last.at < intervalMs) {
      last.suppressed += 1;
      return;
    }
    lastAt.set(key, { at: t, suppressed: 0 });
    logger.error({ ...fields, suppressed: last?.suppressed ?? 0 }, message);
  };
}
