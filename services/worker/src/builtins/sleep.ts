import { MAX_DURATION_MS, parseDuration } from '@relay/workflow';
import { NonRetryableError, TaskAbortedError } from '../errors.js';
import type { Handler } from '../types.js';
import { withObject } from './input.js';

/** `sleep {duration}`: waits (a number of ms or a duration string), honouring abort; output `null`. */
export const sleepHandler: Handler = async (input, ctx) => {
  const { duration } = withObject(input, 'sleep');
  const ms = durationMs(duration);
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new TaskAbortedError(String(ctx.signal.reason?.message ?? ctx.signal.reason ?? 'aborted')));
    };
    const timer = setTimeout(() => {
      ctx.signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    if (ctx.signal.aborted) onAbort();
    else ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
  return null;
};

/**
 * A duration string, or (from a whole-value reference) a number of milliseconds: a whole number up to
 * MAX_DURATION_MS, as a literal duration may be; setTimeout would run a longer one at once.
 * @throws NonRetryableError naming with.duration otherwise.
 */
export function durationMs(value: unknown): number {
  if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= 0 && value <= MAX_DURATION_MS) return value;
    throw new NonRetryableError(
      `with.duration: a number of milliseconds must be a whole number from 0 to ${MAX_DURATION_MS} (about 24.8 days), got ${value}`,
    );
  }
  const parsed = parseDuration(value);
  if (parsed.ok) return parsed.ms;
  throw new NonRetryableError(`with.duration: ${parsed.reason}`);
}
