/** One problem with a request, naming where it is (a field path, or a line and column of a document). */
export interface Issue {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

/**
 * An error the API answers with a fitting status: `{"error": {"code", "message", "details"?}}`.
 * Every subclass fixes its status and code; `app.onError` maps it in one place.
 */
export class ApiError extends Error {
  override readonly name: string = 'ApiError';
  constructor(
    readonly status: 400 | 401 | 404 | 409 | 413 | 415 | 503,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** 400: the request is malformed; `details` lists every issue. */
export class ValidationError extends ApiError {
  override readonly name = 'ValidationError';
  constructor(message: string, issues: Issue[]) {
    super(400, 'invalid_request', message, issues);
  }
}

/** 400: the workflow document is invalid (YAML syntax, schema, DAG); `details` lists every issue. */
export class InvalidWorkflowError extends ApiError {
  override readonly name = 'InvalidWorkflowError';
  constructor(issues: Issue[]) {
    const first = issues[0];
    const where = first ? `${first.path || '(document)'}: ${first.message}` : 'invalid workflow';
    super(400, 'invalid_workflow', `invalid workflow: ${where}`, issues);
  }
}

/** 401: the bearer token is missing or wrong. */
export class UnauthorizedError extends ApiError {
  override readonly name = 'UnauthorizedError';
  constructor(message = 'missing or invalid bearer token') {
    super(401, 'unauthorized', message);
  }
}

/** 404: an unknown workflow, run, task or route. */
export class NotFoundError extends ApiError {
  override readonly name = 'NotFoundError';
  constructor(message: string) {
    super(404, 'not_found', message);
  }
}

/** 409: the resource is not in the state the operation requires. */
export class ConflictError extends ApiError {
  override readonly name = 'ConflictError';
  constructor(message: string, details?: unknown) {
    super(409, 'conflict', message, details);
  }
}

/** 413: the body is larger than `RELAY_MAX_BODY_BYTES`. */
export class PayloadTooLargeError extends ApiError {
  override readonly name = 'PayloadTooLargeError';
  constructor(maxBytes: number) {
    super(413, 'payload_too_large', `request body exceeds ${maxBytes} bytes`, { maxBytes });
  }
}

/** 415: the body's content type is not one the route accepts. */
export class UnsupportedMediaTypeError extends ApiError {
  override readonly name = 'UnsupportedMediaTypeError';
  constructor(received: string | undefined, accepted: readonly string[]) {
    super(
      415,
      'unsupported_media_type',
      `content type ${received ? `'${received}'` : '(none)'} is not accepted; use one of ${accepted.join(', ')}`,
      { accepted },
    );
  }
}

/** 503: Postgres or Redis is unreachable or did not answer in time (retryable). */
export class DependencyUnavailableError extends ApiError {
  override readonly name = 'DependencyUnavailableError';
  constructor(
    readonly dependency: 'postgres' | 'redis',
    reason: string,
    options?: { cause?: unknown; details?: unknown },
  ) {
    super(503, 'unavailable', `${dependency} unavailable: ${reason}`, options?.details, options);
  }
}
