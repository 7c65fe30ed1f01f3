import { parseDuration } from '@relay/workflow';
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

function durationMs(value: unknown): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  const parsed = parseDuration(value);
  if (parsed.ok) return parsed.ms;
  throw new NonRetryableError(`with.duration: ${parsed.reason}`);
}
