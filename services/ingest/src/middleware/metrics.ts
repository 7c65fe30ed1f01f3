import type { MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import { Counter, Histogram, type Registry } from 'prom-client';

const REQUESTS = 'relay_http_requests_total';
const DURATION = 'relay_http_request_duration_seconds';
const LABELS = ['method', 'route', 'status'] as const;

// The route pattern of the handler that answered ('/runs/:id'), never the raw path, so label
// cardinality stays bounded; 'unmatched' for 404s no route claimed.
function routeOf(c: Parameters<MiddlewareHandler>[0]): string {
  const handlers = matchedRoutes(c).filter((route) => route.method !== 'ALL');
  return handlers.at(-1)?.path ?? 'unmatched';
}

/** Counts requests and observes their duration by method, route pattern and status on `registry`. */
export function recordHttpMetrics(registry: Registry): MiddlewareHandler {
  // createApp may run more than once over one registry (tests): reuse what is registered.
  const requests =
    (registry.getSingleMetric(REQUESTS) as Counter<(typeof LABELS)[number]> | undefined) ??
    new Counter({
      name: REQUESTS,
      help: 'HTTP requests answered',
      labelNames: LABELS,
      registers: [registry],
    });
  const duration =
    (registry.getSingleMetric(DURATION) as Histogram<(typeof LABELS)[number]> | undefined) ??
    new Histogram({
      name: DURATION,
      help: 'HTTP request duration in seconds',
      labelNames: LABELS,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  return async (c, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const labels = { method: c.req.method, route: routeOf(c), status: String(c.res.status) };
      requests.inc(labels);
      duration.observe(labels, (performance.now() - started) / 1000);
    }
  };
}
