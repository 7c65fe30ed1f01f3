/** Base class of the worker's own errors. */
export class WorkerError extends Error {
  override name = 'WorkerError';
}

/**
 * Thrown by a handler (built-in or custom) to fail the attempt for good: the scheduler does not
 * retry it even when attempts are left (BullMQ's `UnrecoverableError`).
 */
export class NonRetryableError extends WorkerError {
  override name = 'NonRetryableError';
}

/** The attempt outlived its task's `timeout`; retryable. */
export class TaskTimeoutError extends WorkerError {
  override name = 'TaskTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${formatMs(timeoutMs)}`);
  }
}

/** The attempt was aborted (cancelled run, superseded attempt, shutdown). */
export class TaskAbortedError extends WorkerError {
  override name = 'TaskAbortedError';
  constructor(readonly reason: string) {
    super(`aborted: ${reason}`);
  }
}

/** A shell command exited non-zero or was killed; retryable. */
export class ShellCommandError extends WorkerError {
  override name = 'ShellCommandError';
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly stderrTail: string,
  ) {
    super(message);
  }
}

/** An http task got a status >= 400; retryable, whatever the status (SPEC: it fails the attempt). */
export class HttpStatusError extends WorkerError {
  override name = 'HttpStatusError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/**
 * An http task's request failed before a complete response (connection refused, DNS, reset); retryable.
 * The message names the low-level cause (`connect ECONNREFUSED 127.0.0.1:18399`), which fetch hides
 * behind a bare `fetch failed`.
 */
export class HttpRequestError extends WorkerError {
  override name = 'HttpRequestError';
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
  }
}

/** `500ms`, `10s`, `1.5s`: the shortest readable form of a duration. */
export function formatMs(ms: number): string {
  if (ms >= 1000 && ms % 100 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
