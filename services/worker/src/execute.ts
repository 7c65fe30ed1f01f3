import type { JsonValue } from '@relay/template';
import { NonRetryableError, TaskAbortedError, TaskTimeoutError } from './errors.js';
import type { AttemptResult, Handler, TaskContext } from './types.js';

/** What one attempt runs with. */
export interface AttemptSpec {
  handler: Handler;
  input: JsonValue;
  /** Everything of the context but the signal, which runAttempt builds (accessors are kept as accessors). */
  ctx: Omit<TaskContext, 'signal'>;
  /** The task's per-attempt timeout, or null. */
  timeoutMs: number | null;
  /** Aborted on cancellation, supersession or shutdown. */
  cancel: AbortSignal;
  maxOutputBytes: number;
}

/** True for errors that must not be retried (also a NonRetryableError from another copy of this package). */
export function isNonRetryable(err: unknown): boolean {
  return err instanceof NonRetryableError || (err instanceof Error && err.name === 'NonRetryableError');
}

/** The JSON text stored for an output, or why it cannot be stored (fails the attempt for good). */
export function serializeOutput(output: JsonValue | undefined, maxBytes: number): AttemptResult {
  let text: string | undefined;
  try {
    text = JSON.stringify(output === undefined ? null : output);
  } catch (err) {
    return {
      ok: false,
      error: `output is not JSON-serializable: ${(err as Error).message}`,
      retryable: false,
    };
  }
  if (text === undefined) return { ok: false, error: 'output is not JSON-serializable', retryable: false };
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > maxBytes) {
    return {
      ok: false,
      error: `output is ${bytes} bytes, over the limit of ${maxBytes} bytes (RELAY_MAX_OUTPUT_BYTES)`,
      retryable: false,
    };
  }
  return { ok: true, output: text };
}

/**
 * Runs a handler under `AbortSignal.any([cancel, timeout])`. The attempt ends when the handler settles
 * or the signal fires, whichever is first (a handler that ignores its signal cannot hold the attempt).
 * Timeouts fail retryably as `timed out after 10s`; a NonRetryableError fails for good.
 */
export async function runAttempt(spec: AttemptSpec): Promise<AttemptResult> {
  const timeout = spec.timeoutMs === null ? undefined : AbortSignal.timeout(spec.timeoutMs);
  const signal = timeout ? AbortSignal.any([spec.cancel, timeout]) : spec.cancel;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => {
      if (timeout?.aborted && spec.timeoutMs !== null) reject(new TaskTimeoutError(spec.timeoutMs));
      else reject(new TaskAbortedError(reasonText(spec.cancel.reason)));
    };
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => {});
  try {
    const output = await Promise.race([spec.handler(spec.input, contextWith(spec.ctx, signal)), aborted]);
    return serializeOutput(output, spec.maxOutputBytes);
  } catch (err) {
    // A handler rejecting because of the abort reports the abort's cause, not its own wording.
    if (signal.aborted) {
      if (timeout?.aborted && spec.timeoutMs !== null) {
        return { ok: false, error: new TaskTimeoutError(spec.timeoutMs).message, retryable: true };
      }
      return {
        ok: false,
        error: new TaskAbortedError(reasonText(spec.cancel.reason)).message,
        retryable: true,
      };
    }
    return { ok: false, error: errorText(err), retryable: !isNonRetryable(err) };
  } finally {
    if (onAbort) signal.removeEventListener('abort', onAbort);
  }
}

/** The handler's context: `ctx` plus the signal; `logger` is read from `ctx` only when the handler uses it. */
function contextWith(ctx: Omit<TaskContext, 'signal'>, signal: AbortSignal): TaskContext {
  return {
    runId: ctx.runId,
    taskId: ctx.taskId,
    taskRunId: ctx.taskRunId,
    attempt: ctx.attempt,
    workflowId: ctx.workflowId,
    queue: ctx.queue,
    signal,
    get logger() {
      return ctx.logger;
    },
  };
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return reason === undefined ? 'aborted' : String(reason);
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
