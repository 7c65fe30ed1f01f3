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
 * Runs one attempt of a task. `input` is the task's `with`, templates resolved (JSON; declare the shape
 * your workflow gives it, the worker cannot check it). Return or resolve with the output: anything
 * `JSON.stringify` takes (`undefined`, or no return, is stored as `null`; what JSON cannot hold fails the
 * attempt for good). Throw to fail the attempt (retryable unless the error is a NonRetryableError).
 */
export type Handler<Input = JsonValue, Output = unknown> = (
  input: Input,
  ctx: TaskContext,
) => Output | Promise<Output>;

/**
 * A handler as `createWorker` takes it. Method syntax makes its parameter bivariant: an inline
 * `async (input, ctx) => ...` sees `input` as JSON (a JsonValue, or an object), and one that declares
 * its input's shape, `async (input: { amount: number }) => ...`, is accepted too (a plain function type
 * would demand a parameter that takes every JsonValue). `object` is there for a shape declared as an
 * interface, which, having no index signature, is not a JsonValue to TypeScript.
 */
export type AnyHandler = {
  handle(input: JsonValue | object, ctx: TaskContext): unknown;
}['handle'];

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
