import { unstorableText } from '@relay/workflow';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppDeps } from './deps.js';
import {
  ApiError,
  MethodNotAllowedError,
  NotFoundError,
  UnsupportedContentEncodingError,
  ValidationError,
} from './errors.js';
import { requireBearerToken } from './middleware/auth.js';
import { limitBody } from './middleware/body.js';
import { compressLargeResponses } from './middleware/compress.js';
import { recordHttpMetrics } from './middleware/metrics.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { runRoutes } from './routes/runs.js';
import { workflowRoutes } from './routes/workflows.js';

export type { AppDeps, ReadinessCheck } from './deps.js';

/**
 * The ingest HTTP API (SPEC section 5): metrics -> gzip of large answers -> auth -> body limit -> routes.
 * Every error becomes `{"error": {"code", "message", "details"}}` in `onError` (`details` null when there
 * are none); unknown routes are 404, a known path asked with another method 405.
 */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();

  app.use('*', recordHttpMetrics(deps.registry));
  app.use('*', compressLargeResponses());
  app.use('*', requireBearerToken(deps.config.apiToken));
  app.use('*', refuseUnreadableRequests());
  app.use('*', limitBody(deps.config.maxBodyBytes));

  app.route('/', healthRoutes(deps));
  app.route('/workflows', workflowRoutes(deps));
  app.route('/', runRoutes(deps));
  app.route('/', eventRoutes(deps));

  app.notFound((c) => {
    const allowed = allowedMethods(app, c.req.path);
    const err =
      allowed.length > 0 && !allowed.includes(c.req.method)
        ? new MethodNotAllowedError(c.req.method, c.req.path, allowed)
        : new NotFoundError(`no route for ${c.req.method} ${c.req.path}`);
    return respondWithError(err, c, deps);
  });
  app.onError((err, c) => respondWithError(err, c, deps));
  return app;
}

function respondWithError(err: Error, c: Context, deps: AppDeps): Response {
  if (err instanceof ApiError) {
    if (err.status === 503) deps.logger.warn({ err, path: c.req.path }, 'dependency unavailable');
    const body = { code: err.code, message: err.message, details: err.details ?? null };
    return c.json({ error: body }, err.status, err.headers);
  }
  if (err instanceof HTTPException && err.status < 500) {
    // Thrown by hono itself (e.g. a malformed request it refuses); keep its status, use our shape.
    const body = { code: 'http_error', message: err.message || 'request refused', details: null };
    return c.json({ error: body }, err.status);
  }
  deps.logger.error({ err, method: c.req.method, path: c.req.path }, 'request failed');
  return c.json({ error: { code: 'internal', message: 'internal server error', details: null } }, 500);
}

const ROUTE_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** The methods some route of `app` answers on `path` (HEAD with GET), for a 405's Allow header. */
function allowedMethods(app: Hono, path: string): string[] {
  const allowed = ROUTE_METHODS.filter((method) =>
    app.routes.some((route) => route.method === method && matchesRoute(route.path, path)),
  );
  return allowed.includes('GET') ? [...allowed, 'HEAD'] : allowed;
}

// Routes here are literal segments and `:param`s; `*` (middleware) is never a route of its own.
function matchesRoute(pattern: string, path: string): boolean {
  const want = pattern.split('/').filter(Boolean);
  const have = path.split('/').filter(Boolean);
  return (
    !want.includes('*') &&
    want.length === have.length &&
    want.every((segment, i) => segment.startsWith(':') || segment === have[i])
  );
}

/**
 * 400 for a URL that holds a NUL (`%00`): no id, filter or task name can contain one, and Postgres
 * refuses it in any text. 415 for a compressed body (`Content-Encoding`), which nothing here decodes.
 */
function refuseUnreadableRequests(): MiddlewareHandler {
  return async (c, next) => {
    const encoding = c.req.header('content-encoding')?.trim().toLowerCase();
    if (encoding && encoding !== 'identity') throw new UnsupportedContentEncodingError(encoding);
    // A NUL or an unpaired surrogate can only arrive percent-encoded (the HTTP parser refuses raw NUL).
    if (!c.req.url.includes('%')) return next();
    const url = new URL(c.req.url);
    if (/%00/i.test(url.pathname)) {
      throw new ValidationError('invalid path: must not contain a NUL character (%00)', [
        { path: '(path)', message: 'must not contain a NUL character (%00)' },
      ]);
    }
    for (const [name, value] of url.searchParams) {
      const why = unstorableText(name) ?? unstorableText(value);
      if (why) throw new ValidationError(`invalid query: ${name}: ${why}`, [{ path: name, message: why }]);
    }
    return next();
  };
}
