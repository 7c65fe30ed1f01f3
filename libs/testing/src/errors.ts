/** Base class of the errors raised by @relay/testing. */
export class TestingError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TestingError';
  }
}

/** `waitFor` reached its deadline; carries the probe's last value or last error. */
export class WaitForTimeoutError extends TestingError {
  readonly lastValue: unknown;
  readonly lastError: unknown;
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number, lastValue: unknown, lastError: unknown) {
    super(message, lastError === undefined ? undefined : { cause: lastError });
    this.name = 'WaitForTimeoutError';
    this.timeoutMs = timeoutMs;
    this.lastValue = lastValue;
    this.lastError = lastError;
  }
}

/** A service process could not be started (its entry file is missing: build first). */
export class ServiceSpawnError extends TestingError {
  readonly service: string;
  readonly entry: string;
  constructor(service: string, entry: string, message: string) {
    super(message);
    this.name = 'ServiceSpawnError';
    this.service = service;
    this.entry = entry;
  }
}
