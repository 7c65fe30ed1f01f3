import type { JsonValue } from '@relay/template';
import { MAX_JSON_DEPTH } from '@relay/workflow';
import { NonRetryableError, TaskAbortedError, TaskTimeoutError, WorkerError } from './errors.js';
import type { AnyHandler, AttemptResult, TaskContext } from './types.js';

/**
 * An attempt's cancellation: `abort(reason)` ends the attempt; its AbortSignal is made only when read (by
 * a handler, or for a timeout). Creating an AbortController per attempt showed in the worker's CPU profile
 * (~5%), and a no-op or a fast custom handler never looks at its signal.
 */
export class Cancellation {
  private controller: AbortController | undefined;
  private abortedWith: { reason: unknown } | undefined;
  private listener: (() => void) | undefined;

  get aborted(): boolean {
    return this.abortedWith !== undefined;
  }

  get reason(): unknown {
    return this.abortedWith?.reason;
  }

  /** The AbortSignal, made on first use (already aborted when the attempt was). */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortedWith) this.controller.abort(this.abortedWith.reason);
    }
    return this.controller.signal;
  }

  abort(reason: unknown): void {
    if (this.abortedWith) return;
    this.abortedWith = { reason };
    this.controller?.abort(reason);
    const listener = this.listener;
    this.listener = undefined;
    listener?.();
  }

  /** Calls `fn` once on abort (at most one listener: the attempt's race); returns the unsubscribe. */
  onAbort(fn: () => void): () => void {
    this.listener = fn;
    return () => {
      if (this.listener === fn) this.listener = undefined;
    };
  }
}

/** What one attempt runs with. */
export interface AttemptSpec {
  handler: AnyHandler;
  input: JsonValue;
  /** Everything of the context but the signal, which runAttempt builds (accessors are kept as accessors). */
  ctx: Omit<TaskContext, 'signal'>;
  /** The task's per-attempt timeout, or null. */
  timeoutMs: number | null;
  /** Aborted on cancellation, supersession or shutdown. */
  cancel: Cancellation;
  maxOutputBytes: number;
  /**
   * Called once the handler itself has returned or thrown. That is before runAttempt resolves, unless
   * the attempt ended on its timeout or cancellation first and the handler ignored its signal: then it
   * is called whenever the handler finally settles, or never.
   */
  onSettled?: () => void;
}

/** True for errors that must not be retried (also a NonRetryableError from another copy of this package). */
export function isNonRetryable(err: unknown): boolean {
  return err instanceof NonRetryableError || (err instanceof Error && err.name === 'NonRetryableError');
}

/**
 * Whether `value` nests more than `maxDepth` arrays and objects. Iterative, so any depth is safe; it
 * visits containers only (a flat array of a million numbers is one step per element, no allocation).
 */
export function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  const stack: { value: object; depth: number }[] = [];
  if (typeof value === 'object' && value !== null) stack.push({ value, depth: 1 });
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    if (item.depth > maxDepth) return true;
    const children = Array.isArray(item.value) ? item.value : Object.values(item.value);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) stack.push({ value: child, depth: item.depth + 1 });
    }
  }
  return false;
}

/**
 * The JSON text stored for an output, or why it cannot be stored (fails the attempt for good): it must
 * serialize, fit RELAY_MAX_OUTPUT_BYTES, and nest at most MAX_JSON_DEPTH levels, as every JSON value
 * Relay stores (a dependent task's input takes it in whole, and JSON.stringify overflows the stack
 * some thousands of levels down).
 */
export function serializeOutput(output: unknown, maxBytes: number): AttemptResult {
  const tooDeep: AttemptResult = {
    ok: false,
    error: `output nests deeper than ${MAX_JSON_DEPTH} levels of lists and mappings`,
    retryable: false,
  };
  let text: string | undefined;
  try {
    text = JSON.stringify(output === undefined ? null : output);
  } catch (err) {
    if (err instanceof RangeError) return tooDeep;
    return {
      ok: false,
      error: `output is not JSON-serializable: ${(err as Error).message}`,
      retryable: false,
    };
  }
  if (text === undefined) return { ok: false, error: 'output is not JSON-serializable', retryable: false };
  // After stringify: a circular value is reported as such, not as too deep.
  if (nestsDeeperThan(output, MAX_JSON_DEPTH)) return tooDeep;
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
 * Runs a handler under its cancellation and timeout. The attempt ends when the handler settles or either
 * fires, whichever is first (a handler that ignores its signal cannot hold the attempt). Timeouts fail
 * retryably as `timed out after 10s`; a NonRetryableError fails for good.
 */
export async function runAttempt(spec: AttemptSpec): Promise<AttemptResult> {
  const { cancel, timeoutMs } = spec;
  const timeout = timeoutMs === null ? undefined : AbortSignal.timeout(timeoutMs);
  // Without a timeout the handler's signal is the cancellation's own, made only if the handler reads it.
  const signal = timeout ? AbortSignal.any([cancel.signal, timeout]) : undefined;
  const timedOut = () => timeout?.aborted === true && timeoutMs !== null;
  const abortError = () =>
    timedOut() ? new TaskTimeoutError(timeoutMs as number) : new TaskAbortedError(reasonText(cancel.reason));
  let unsubscribe: () => void = () => {};
  const aborted = new Promise<never>((_, reject) => {
    const onAbort = () => reject(abortError());
    if (cancel.aborted || signal?.aborted) onAbort();
    else if (signal) {
      signal.addEventListener('abort', onAbort, { once: true });
      unsubscribe = () => signal.removeEventListener('abort', onAbort);
    } else unsubscribe = cancel.onAbort(onAbort);
  });
  aborted.catch(() => {});
  const settled = spec.onSettled ?? (() => {});
  try {
    const ctx = contextWith(spec.ctx, () => signal ?? cancel.signal);
    let pending: unknown;
    try {
      pending = spec.handler(spec.input, ctx);
    } catch (err) {
      settled();
      throw err;
    }
    // Registered before the race's own reaction, so it runs first when the handler wins the race.
    if (isThenable(pending)) pending.then(settled, settled);
    else settled();
    const output = await Promise.race([pending, aborted]);
    return serializeOutput(output, spec.maxOutputBytes);
  } catch (err) {
    // A handler rejecting because of the abort reports the abort's cause, not its own wording.
    if (cancel.aborted || timedOut()) return { ok: false, error: abortError().message, retryable: true };
    // The stored text is the message (and causes); the stack of an unexpected error goes to the log. The
    // worker's own errors (a shell's exit status, an http status, NonRetryableError) are outcomes, not bugs.
    if (err instanceof Error && !(err instanceof WorkerError)) {
      spec.ctx.logger.warn({ err }, 'task handler threw');
    }
    return { ok: false, error: errorText(err), retryable: !isNonRetryable(err) };
  } finally {
    unsubscribe();
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * The handler's context: `ctx` plus the signal; `signal` is made and `logger` read from `ctx` only when
 * the handler uses them.
 */
function contextWith(ctx: Omit<TaskContext, 'signal'>, signal: () => AbortSignal): TaskContext {
  return {
    runId: ctx.runId,
    taskId: ctx.taskId,
    taskRunId: ctx.taskRunId,
    attempt: ctx.attempt,
    workflowId: ctx.workflowId,
    queue: ctx.queue,
    get signal() {
      return signal();
    },
    get logger() {
      return ctx.logger;
    },
  };
}

function reasonText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return reason === undefined ? 'aborted' : String(reason);
}

/** How many causes deep errorText follows `cause`. */
const MAX_CAUSES = 3;

/** What errorText gives for a thrown value whose text cannot be read (a throwing getter or Proxy). */
export const UNPRINTABLE_ERROR = 'the handler threw a value that cannot be shown as text';

/**
 * The error text of what a handler threw: always a string, and it never throws. Not everything thrown
 * is an Error: a plain object gives its string `message`, else its JSON (an API client's
 * `{ code, detail }`), never "[object Object]"; an Error whose `message` is not a string (an API's
 * validation messages assigned onto it) gives that value's JSON. An Error's `cause` chain is appended
 * (`outer: inner`), unless the message already says it (as the http task's errors do), and an
 * AggregateError's errors follow its message (`all failed: a; b`), so a wrapped root cause is not lost.
 */
export function errorText(err: unknown, depth = 0): string {
  try {
    return describeThrown(err, depth);
  } catch {
    return UNPRINTABLE_ERROR;
  }
}

function describeThrown(err: unknown, depth: number): string {
  if (err instanceof Error) {
    const message = typeof err.message === 'string' ? err.message : asText(err.message);
    let text = message || (typeof err.name === 'string' && err.name) || 'Error';
    if (err instanceof AggregateError && Array.isArray(err.errors) && err.errors.length > 0) {
      const inner = err.errors.slice(0, 10).map((e) => errorText(e, MAX_CAUSES));
      text = `${message ? `${message}: ` : `${err.name}: `}${inner.join('; ')}`;
    }
    if (err.cause === undefined || err.cause === null || depth >= MAX_CAUSES) return text;
    const cause = errorText(err.cause, depth + 1);
    return cause === '' || text.includes(cause) ? text : `${text}: ${cause}`;
  }
  if (typeof err === 'object' && err !== null) {
    const { message } = err as { message?: unknown };
    if (typeof message === 'string' && message !== '') return message;
  }
  return asText(err);
}

/** JSON of a value when it has one other than `{}`, else its String() (a Symbol, undefined). */
function asText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null) {
    try {
      const json = JSON.stringify(value);
      if (json !== undefined && json !== '{}') return json;
    } catch {
      // Circular or holding a BigInt: fall back to its tag.
    }
  }
  try {
    return String(value);
  } catch {
    // No toString (a null-prototype object).
    return Object.prototype.toString.call(value);
  }
}
