import type { Logger } from '@relay/runtime';
import type { JsonValue } from '@relay/template';

/** What a handler learns about the attempt it runs. */
export interface TaskContext {
  runId: string;
  taskId: string;
  taskRunId: string;
  attempt: number;
  workflowId: string;
  /** The task's queue. */
  queue: string;
  /** Aborted on timeout, cancellation, a superseded attempt or shutdown; stop work when it fires. */
  signal: AbortSignal;
  /** Child logger with `{ runId, taskId, attempt }`. */
  logger: Logger;
}

/**
 * Runs one attempt of a task. `input` is the task's `with`, templates resolved. Resolve with the
 * output (JSON; `undefined` is stored as `null`); throw to fail the attempt (retryable unless the
 * error is a NonRetryableError).
 */
export type Handler = (input: JsonValue, ctx: TaskContext) => Promise<JsonValue | undefined>;

/** A handler's outcome, as the completer writes it. */
export type AttemptResult = { ok: true; output: string } | { ok: false; error: string; retryable: boolean };

/** One claimed attempt: what the work message and the claim told us. */
export interface ClaimedTask {
  id: string;
  runId: string;
  taskId: string;
  attempt: number;
  queue: string;
  workflowId: string;
  workflowVersion: number;
}
