/** One problem with one environment variable. */
export interface ConfigIssue {
  /** The variable's name, or undefined for a problem that belongs to no single variable. */
  readonly variable: string | undefined;
  /** What is wrong, already including the offending value where there is one. */
  readonly problem: string;
}

/**
 * The environment holds a bad or missing value. Permanent: the process must not start.
 * Its message is a single line, `VARIABLE: problem`, several issues joined with `; `.
 */
export class ConfigError extends Error {
  /** Every issue found, in schema order. */
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    super(issues.map(formatConfigIssue).join('; '));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

function formatConfigIssue(issue: ConfigIssue): string {
  return issue.variable === undefined ? issue.problem : `${issue.variable}: ${issue.problem}`;
}

/** A readiness check did not settle within its time budget. Retryable: the next probe runs it again. */
export class CheckTimeoutError extends Error {
  /** The budget that was exceeded, in milliseconds. */
  readonly timeoutMs: number;

  constructor(timeoutMs: number, options?: { cause?: unknown }) {
    super(`timed out after ${timeoutMs}ms`, options);
    this.name = 'CheckTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/** A Redis client is not connected (it is connecting, reconnecting or closed). Retryable. */
export class RedisNotReadyError extends Error {
  /** The ioredis status at the time of the check, e.g. `reconnecting`. */
  readonly status: string;

  constructor(status: string) {
    super(`redis connection is ${status}`);
    this.name = 'RedisNotReadyError';
    this.status = status;
  }
}
