/**
 * Thrown by `createEnvelope` when a producer builds an event that its own schema rejects: a bug in
 * the producer (permanent, never worth a retry). `reason` names the failing field(s), as
 * `parseEnvelope` would report them.
 */
export class InvalidEventError extends Error {
  override readonly name = 'InvalidEventError';
  readonly eventType: string;
  readonly reason: string;

  constructor(eventType: string, reason: string, options?: { cause?: unknown }) {
    super(`invalid ${eventType} event: ${reason}`, options);
    this.eventType = eventType;
    this.reason = reason;
  }
}

/** Thrown by `streamNames(prefix).work(queue)` for a queue name that does not follow the id pattern. */
export class InvalidStreamNameError extends Error {
  override readonly name = 'InvalidStreamNameError';
  readonly value: string;

  constructor(what: string, value: string) {
    super(`invalid ${what} ${JSON.stringify(value)}: must match ^[a-z0-9][a-z0-9._-]{0,127}$`);
    this.value = value;
  }
}
