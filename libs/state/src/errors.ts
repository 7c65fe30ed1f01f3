/** Thrown by `transition` when the event does not apply to the task's current state. */
export class IllegalTransitionError extends Error {
  /** The state the task was in. */
  readonly from: string;
  /** The type of the event that was applied. */
  readonly event: string;

  constructor(from: string, event: string, options?: { cause?: unknown }) {
    super(`illegal task transition: ${event} does not apply to a task in state ${from}`, options);
    this.name = 'IllegalTransitionError';
    this.from = from;
    this.event = event;
  }
}

/** Thrown when a retry or backoff input is out of range; `field` names it (`backoff.factor`). */
export class InvalidRetryInputError extends Error {
  /** The offending field, as a path into the input. */
  readonly field: string;
  /** The value given. */
  readonly value: unknown;

  constructor(field: string, value: unknown, expected: string, options?: { cause?: unknown }) {
    super(`invalid ${field}: expected ${expected}, got ${String(value)}`, options);
    this.name = 'InvalidRetryInputError';
    this.field = field;
    this.value = value;
  }
}

/** Thrown by `assertNever` when a value the type system deemed impossible shows up at run time. */
export class UnreachableError extends Error {
  /** The unexpected value. */
  readonly value: unknown;

  constructor(value: unknown, options?: { cause?: unknown }) {
    super(`unreachable: unexpected value ${JSON.stringify(value)}`, options);
    this.name = 'UnreachableError';
    this.value = value;
  }
}

/** Exhaustiveness check for switches over unions: compiles only when every case is handled. */
export function assertNever(value: never): never {
  throw new UnreachableError(value);
}
