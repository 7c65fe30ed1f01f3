/**
 * Errors raised by @relay/bus. Every class sets `name`, carries readonly context and accepts `{ cause }`.
 * `retryable` tells a caller whether trying the same call again may succeed.
 */

/** Base class of every bus error. */
export class BusError extends Error {
  /** Whether the same operation may succeed when retried. */
  readonly retryable: boolean;

  constructor(message: string, options: { cause?: unknown; retryable: boolean }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'BusError';
    this.retryable = options.retryable;
  }
}

/** An outgoing event failed its contract (a producer bug): never retryable. */
export class InvalidOutgoingEventError extends BusError {
  readonly type: string;
  readonly reason: string;

  constructor(type: string, reason: string, cause?: unknown) {
    super(`outgoing event ${type} is invalid: ${reason}`, { cause, retryable: false });
    this.name = 'InvalidOutgoingEventError';
    this.type = type;
    this.reason = reason;
  }
}

/** One or more XADD of a publish batch failed; the batch may be partially written. */
export class PublishError extends BusError {
  /** Stream key and error message of every failed XADD. */
  readonly failures: ReadonlyArray<{ stream: string; message: string }>;

  constructor(failures: ReadonlyArray<{ stream: string; message: string }>, cause?: unknown) {
    const first = failures[0];
    const summary = first ? `${first.stream}: ${first.message}` : 'pipeline failed';
    super(`publish failed for ${failures.length} event(s) (${summary})`, { cause, retryable: true });
    this.name = 'PublishError';
    this.failures = failures;
  }
}

/** `consume`/`broadcast` was called after `close()`. */
export class BusClosedError extends BusError {
  constructor(operation: string) {
    super(`bus is closed: cannot ${operation}`, { retryable: false });
    this.name = 'BusClosedError';
  }
}

/** A blocking command did not return in time; the connection was dropped and will be recreated. */
export class BlockingTimeoutError extends BusError {
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    super(`blocking command did not return within ${timeoutMs} ms`, { retryable: true });
    this.name = 'BlockingTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/** A blocking command was interrupted because its consumer is stopping. */
export class InterruptedError extends BusError {
  constructor() {
    super('blocking command interrupted', { retryable: false });
    this.name = 'InterruptedError';
  }
}

/** A Redis reply did not have the shape the command documents. */
export class UnexpectedReplyError extends BusError {
  readonly command: string;

  constructor(command: string, detail: string) {
    super(`unexpected ${command} reply: ${detail}`, { retryable: true });
    this.name = 'UnexpectedReplyError';
    this.command = command;
  }
}

/** A configuration value is out of range; names the option. */
export class InvalidBusOptionError extends BusError {
  readonly option: string;

  constructor(option: string, detail: string) {
    super(`invalid bus option ${option}: ${detail}`, { retryable: false });
    this.name = 'InvalidBusOptionError';
    this.option = option;
  }
}

/** A wait given up because its caller is stopping (`unlessAborted`): the work may still complete. */
export class AbortedWaitError extends BusError {
  constructor() {
    super('gave up waiting: stopping', { retryable: false });
    this.name = 'AbortedWaitError';
  }
}
