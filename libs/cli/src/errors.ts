/** A failure the CLI reports as one line and exit code 1 (no stack trace). */
export class CliError extends Error {
  override readonly name: string = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** The API answered with an error document (`{error: {code, message, details}}`). */
export class ApiError extends CliError {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(`${status} ${code}: ${message}`);
  }
}

/** A 2xx answer that is not what Relay's API answers (RELAY_URL points elsewhere, or at another version). */
export class UnexpectedAnswerError extends CliError {
  override readonly name = 'UnexpectedAnswerError';
  constructor(baseUrl: string, method: string, path: string, problem: string) {
    super(`unexpected answer from ${baseUrl} to ${method} ${path}: ${problem}`);
  }
}

/** No answer from the API at all: refused, reset, unresolvable, or timed out. */
export class UnreachableError extends CliError {
  override readonly name = 'UnreachableError';
}
