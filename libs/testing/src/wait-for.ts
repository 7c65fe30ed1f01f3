import { inspect } from 'node:util';
import { WaitForTimeoutError } from './errors.js';

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Deadline (default 5000 ms). */
  timeoutMs?: number;
  /** Pause between two probes (default 50 ms). */
  intervalMs?: number;
  /** Says what was awaited; starts the timeout error's message. */
  message?: string;
}

const PENDING = Symbol('pending');

/**
 * Polls `probe` until it returns a truthy value and resolves to it (so `0`, `''` and `false` mean
 * "not yet"). A probe that throws counts as "not yet" too. At the deadline throws
 * {@link WaitForTimeoutError} whose message holds `message` and the last value or error; a probe
 * still running at the deadline is abandoned. Use instead of fixed sleeps.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  opts: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = opts.timeoutMs ?? 5000;
  const intervalMs = opts.intervalMs ?? 50;
  const deadline = Date.now() + timeoutMs;
  let lastValue: unknown;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await beforeDeadline(probe, deadline);
      if (value === PENDING) {
        lastError = new Error('the probe was still running at the deadline');
      } else if (value) {
        return value as NonNullable<T>;
      } else {
        lastValue = value;
        lastError = undefined;
      }
    } catch (err) {
      lastError = err;
    }
    const remaining = deadline - Date.now();
    if (remaining <= 0) {
      const last =
        lastError === undefined
          ? `last value: ${inspect(lastValue, { depth: 4 })}`
          : `last error: ${lastError instanceof Error ? lastError.message : inspect(lastError)}`;
      throw new WaitForTimeoutError(
        `${opts.message ?? 'condition not met'} (waited ${timeoutMs}ms; ${last})`,
        timeoutMs,
        lastValue,
        lastError,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, remaining)));
  }
}

async function beforeDeadline<T>(probe: () => T | Promise<T>, deadline: number): Promise<T | typeof PENDING> {
  let timer: NodeJS.Timeout | undefined;
  const pending = new Promise<typeof PENDING>((resolve) => {
    timer = setTimeout(() => resolve(PENDING), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([Promise.resolve().then(probe), pending]);
  } finally {
    clearTimeout(timer);
  }
}
