/**
 * @relay/worker: the worker library (embed it to register custom handlers) and the stock worker service.
 *
 * ```ts
 * const worker = createWorker({ queues: ['payments'], handlers: { 'charge-card': async (input, ctx) => ({ ok: true }) } });
 * await worker.start();
 * process.on('SIGTERM', () => worker.stop());
 * ```
 * @module
 */

export type { JsonValue } from '@relay/template';
export {
  builtinHandlers,
  commandEnv,
  createShellHandler,
  httpHandler,
  noopHandler,
  type ShellHandlerOptions,
  sleepHandler,
} from './builtins/index.js';
export { loadWorkerConfig, queuesOf, type WorkerConfig, WorkerEnvSchema } from './config.js';
export {
  HttpRequestError,
  HttpStatusError,
  NonRetryableError,
  ShellCommandError,
  TaskAbortedError,
  TaskTimeoutError,
  WorkerError,
} from './errors.js';
export { isNonRetryable, runAttempt, serializeOutput } from './execute.js';
export { type RunningWorker, startWorker, type WorkerServiceDeps } from './service.js';
export type { AnyHandler, Handler, TaskContext } from './types.js';
export { createWorker, type Worker, type WorkerOptions } from './worker.js';
