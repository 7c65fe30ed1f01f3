import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from './errors.js';
import { type HealthCheck, type HealthServer, startHealthServer } from './health-server.js';
import { createLogger } from './logger.js';
import { createMetricsRegistry } from './metrics.js';

const logger = createLogger({ service: 'health-test', level: 'silent' });
const registry = createMetricsRegistry('health-test');
let server: HealthServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Polls `done` every 10 ms, for up to 5 s. */
async function waitFor(done: () => boolean): Promise<void> {
  for (const end = Date.now() + 5000; !done(); ) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

// The startup watch is off here (its own tests below): these count the checks that probes run.
async function start(checks: Record<string, HealthCheck>, checkTimeoutMs?: number): Promise<string> {
  server = await startHealthServer({
    port: 0,
    host: '127.0.0.1',
    logger,
    registry,
    checks,
    checkTimeoutMs,
    startupCheckIntervalMs: 0,
  });
  return `http://127.0.0.1:${server.port}`;
}

describe('startHealthServer', () => {
  it('binds a free port when asked for port 0', async () => {
    await start({});
    expect(server?.port).toBeGreaterThan(0);
  });

  it('answers /healthz with 200 even when checks fail', async () => {
    const base = await start({ db: async () => Promise.reject(new Error('down')) });
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers /readyz with 200 when every check resolves', async () => {
    let calls = 0;
    const base = await start({
      db: async () => {
        calls += 1;
      },
      redis: async () => {
        calls += 1;
      },
    });
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect(calls).toBe(2);
  });

  it('says at start, unprobed, that a dependency is unreachable, and when it is reachable again', async () => {
    const lines: { msg: string; failed?: Record<string, string> }[] = [];
    const captured = createLogger({
      service: 'health-test',
      level: 'info',
      destination: { write: (line: string) => lines.push(JSON.parse(line)) },
    });
    let up = false;
    let calls = 0;
    server = await startHealthServer({
      port: 0,
      host: '127.0.0.1',
      logger: captured,
      registry,
      checks: {
        postgres: async () => {
          calls += 1;
          if (!up) throw new Error('connect ECONNREFUSED 10.0.0.9:5432');
        },
      },
      startupCheckIntervalMs: 50,
    });
    await waitFor(() => lines.some((l) => l.msg === 'not ready'));
    expect(lines.find((l) => l.msg === 'not ready')?.failed).toEqual({
      postgres: 'connect ECONNREFUSED 10.0.0.9:5432',
    });
    up = true;
    await waitFor(() => lines.some((l) => l.msg === 'ready'));
    // Once ready it stops looking: probes take over.
    const after = calls;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(calls).toBe(after);
    expect(lines.filter((l) => l.msg === 'not ready')).toHaveLength(1);
  });

  it('answers /readyz with 503 draining once drain() was called, while /healthz stays 200', async () => {
    const base = await start({ db: async () => {} });
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    server?.drain();
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'draining' });
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('answers /readyz with 503 naming each failing check and its message', async () => {
    const base = await start({
      db: async () => {},
      redis: async () => Promise.reject(new Error('connection refused')),
      broken: () => {
        throw new Error('threw synchronously');
      },
    });
    const res = await fetch(`${base}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      status: 'unavailable',
      failed: { redis: 'connection refused', broken: 'threw synchronously' },
    });
  });

  it('answers /readyz with 503 once a hanging check outlasts the timeout', async () => {
    const base = await start({ hang: () => new Promise<void>(() => {}), ok: async () => {} }, 150);
    const startedAt = Date.now();
    const res = await fetch(`${base}/readyz`);
    const elapsed = Date.now() - startedAt;
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'unavailable', failed: { hang: 'timed out after 150ms' } });
    expect(elapsed).toBeGreaterThanOrEqual(140);
    expect(elapsed).toBeLessThan(2000);
  });

  it('serves Prometheus text with default metrics and the service label on /metrics', async () => {
    const base = await start({});
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toContain('# TYPE process_cpu_user_seconds_total counter');
    expect(text).toMatch(/nodejs_heap_size_used_bytes\{service="health-test"\} \d+/);
  });

  it.each([
    ['GET', '/nope', 404],
    ['GET', '/', 404],
    ['POST', '/healthz', 405],
    ['DELETE', '/metrics', 405],
  ])('answers %s %s with %i', async (method, path, status) => {
    const base = await start({});
    const res = await fetch(`${base}${path}`, { method });
    expect(res.status).toBe(status);
  });

  it('ignores query strings when routing', async () => {
    const base = await start({});
    expect((await fetch(`${base}/healthz?probe=1`)).status).toBe(200);
  });

  it('rejects a taken port with a ConfigError naming HEALTH_PORT', async () => {
    await start({});
    const taken = server?.port ?? 0;
    const attempt = startHealthServer({ port: taken, host: '127.0.0.1', logger, registry, checks: {} });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow(
      new RegExp(
        `^HEALTH_PORT: port ${taken} is already in use \\(.*EADDRINUSE.*\\); set HEALTH_PORT to another port, or 0 for any free one$`,
      ),
    );
  });

  it('stops accepting connections after close', async () => {
    const base = await start({});
    await fetch(`${base}/healthz`);
    await server?.close();
    server = undefined;
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});
