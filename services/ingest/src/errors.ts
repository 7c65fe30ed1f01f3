/** One problem with a request, naming where it is (a field path, or a line and column of a document). */
export interface Issue {
  path: string;
  message: string;
  line?: number;
  column?: number;
}

/**
 * An error the API answers with a fitting status: `{"error": {"code", "message", "details"}}`.
 * Every subclass fixes its status and code; `app.onError` maps it in one place.
 */
export class ApiError extends Error {
  override readonly name: string = 'ApiError';
  /** Response headers the status calls for (`WWW-Authenticate` on 401, `Allow` on 405). */
  readonly headers: Record<string, string> | undefined;
  constructor(
    readonly status: 400 | 401 | 404 | 405 | 409 | 413 | 415 | 503,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    options?: { cause?: unknown; headers?: Record<string, string> },
  ) {
    super(message, options);
    this.headers = options?.headers;
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
    const at = first?.line === undefined ? '' : ` (line ${first.line}, column ${first.column})`;
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more, in details)` : '';
    const where = first ? `${first.path || '(document)'}: ${first.message}${at}${more}` : 'invalid workflow';
    super(400, 'invalid_workflow', `invalid workflow: ${where}`, issues);
  }
}

/** 401: the bearer token is missing or wrong. */
export class UnauthorizedError extends ApiError {
  override readonly name = 'UnauthorizedError';
  constructor(message = 'missing or invalid bearer token') {
    super(401, 'unauthorized', message, undefined, {
      headers: { 'WWW-Authenticate': 'Bearer realm="relay"' },
    });
  }
}

/** 404: an unknown workflow, run, task or route. */
export class NotFoundError extends ApiError {
  override readonly name = 'NotFoundError';
  constructor(message: string) {
    super(404, 'not_found', message);
  }
}

/** 405: the path exists, but not with this method. */
export class MethodNotAllowedError extends ApiError {
  override readonly name = 'MethodNotAllowedError';
  constructor(method: string, path: string, allowed: readonly string[]) {
    super(
      405,
      'method_not_allowed',
      `${method} is not allowed on ${path}; use ${allowed.join(', ')}`,
      { allowed },
      {
        headers: { Allow: allowed.join(', ') },
      },
    );
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

/** 415: the Content-Type names a charset other than UTF-8; the API reads UTF-8 bodies only. */
export class UnsupportedCharsetError extends ApiError {
  override readonly name = 'UnsupportedCharsetError';
  constructor(charset: string) {
    super(
      415,
      'unsupported_media_type',
      `charset '${charset}' is not accepted; send the body as UTF-8 (charset=utf-8, or no charset)`,
      { accepted: ['utf-8'] },
    );
  }
}

/** 415: the body is compressed (`Content-Encoding`); the API reads plain bodies only. */
export class UnsupportedContentEncodingError extends ApiError {
  override readonly name = 'UnsupportedContentEncodingError';
  constructor(encoding: string) {
    super(
      415,
      'unsupported_media_type',
      `content encoding '${encoding}' is not accepted; send the body uncompressed`,
      { accepted: ['identity'] },
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

/**
 * Publishes the event of a write already committed. Every such write is one the reaper's reconciler
 * re-announces when its event is lost (a run without task runs, a recorded cancel or decision), so a
 * publish that fails because Redis does not answer is logged and the request still succeeds: a 503 would
 * tell the client nothing happened, and its retry would start a second run.
 */
export async function announceCommitted(
  logger: { warn(fields: object, message: string): void },
  publish: () => Promise<unknown>,
): Promise<void> {
  try {
    await publish();
  } catch (err) {
    if (!(err instanceof DependencyUnavailableError)) throw err;
    logger.warn(
      { err },
      "event not published (Redis did not answer); the reaper's reconciler will announce it",
    );
  }
}
