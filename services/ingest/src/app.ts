import { type Context, Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { AppDeps } from './deps.js';
import { ApiError, NotFoundError } from './errors.js';
import { requireBearerToken } from './middleware/auth.js';
import { limitBody } from './middleware/body.js';
import { recordHttpMetrics } from './middleware/metrics.js';
import { eventRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { runRoutes } from './routes/runs.js';
import { workflowRoutes } from './routes/workflows.js';

export type { AppDeps, ReadinessCheck } from './deps.js';

/**
 * The ingest HTTP API (SPEC section 5): metrics -> auth -> body limit -> routes.
 * Every error becomes `{"error": {"code", "message", "details"?}}` in `onError`; unknown routes are 404.
 */
export function createApp(deps: AppDeps): Hono {
  const app = new Hono();

  app.use('*', recordHttpMetrics(deps.registry));
  app.use('*', requireBearerToken(deps.config.apiToken));
  app.use('*', limitBody(deps.config.maxBodyBytes));

  app.route('/', healthRoutes(deps));
  app.route('/workflows', workflowRoutes(deps));
  app.route('/', runRoutes(deps));
  app.route('/', eventRoutes(deps));

  app.notFound((c) =>
    respondWithError(new NotFoundError(`no route for ${c.req.method} ${c.req.path}`), c, deps),
  );
  app.onError((err, c) => respondWithError(err, c, deps));
  return app;
}

function respondWithError(err: Error, c: Context, deps: AppDeps): Response {
  if (err instanceof ApiError) {
    if (err.status === 503) deps.logger.warn({ err, path: c.req.path }, 'dependency unavailable');
    const body = {
      code: err.code,
      message: err.message,
      ...(err.details === undefined ? {} : { details: err.details }),
    };
    return c.json({ error: body }, err.status);
  }
  if (err instanceof HTTPException && err.status < 500) {
    // Thrown by hono itself (e.g. a malformed request it refuses); keep its status, use our shape.
    return c.json({ error: { code: 'http_error', message: err.message || 'request refused' } }, err.status);
  }
  deps.logger.error({ err, method: c.req.method, path: c.req.path }, 'request failed');
  return c.json({ error: { code: 'internal', message: 'internal server error' } }, 500);
}
