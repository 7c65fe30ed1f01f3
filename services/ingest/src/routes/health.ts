import { Hono } from 'hono';
import type { Registry } from 'prom-client';
import type { AppDeps } from '../deps.js';

/** GET /healthz (alive), GET /readyz (every check answers in time), GET /metrics (Prometheus text). */
export function healthRoutes({ checks, config, registry, logger }: AppDeps): Hono {
  const app = new Hono();
  // Probes come every few seconds: log transitions only, as the other services' health servers do.
  let wasReady: boolean | undefined;

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', async (c) => {
    const results = await Promise.all(
      Object.entries(checks).map(
        async ([name, check]) => [name, await probe(check, config.requestTimeoutMs)] as const,
      ),
    );
    const failed = results.filter(([, result]) => result !== 'ok');
    const ready = failed.length === 0;
    if (ready !== wasReady) {
      if (ready) logger.info('ready');
      else logger.warn({ failed: Object.fromEntries(failed) }, 'not ready');
      wasReady = ready;
    }
    return c.json(
      { status: ready ? 'ready' : 'unavailable', checks: Object.fromEntries(results) },
      ready ? 200 : 503,
    );
  });

  app.get('/metrics', async (c) => {
    const body = await (registry as Registry).metrics();
    return c.body(body, 200, { 'content-type': (registry as Registry).contentType });
  });

  return app;
}

// 'ok', or why the check failed (an error message, `false`, or a timeout).
async function probe(check: () => Promise<unknown>, timeoutMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    const result = await Promise.race([
      check().then((value) => (value === false ? 'check failed' : 'ok')),
      timeout,
    ]);
    return result;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}
