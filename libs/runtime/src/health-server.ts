import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { ConfigError } from './errors.js';
import type { Logger } from './logger.js';
import { withTimeout } from './timeout.js';

/** A readiness check: resolves when the dependency is usable, rejects (or hangs) when not. */
export type HealthCheck = () => Promise<void>;

/** Options of startHealthServer. */
export interface HealthServerOptions {
  /** Port to listen on; 0 picks a free one (read it back from the result). */
  port: number;
  /** Interface to bind; all interfaces when omitted. */
  host?: string;
  logger: Logger;
  /** Served on GET /metrics. */
  registry: Registry;
  /** Named readiness checks run (concurrently) on every GET /readyz. */
  checks: Record<string, HealthCheck>;
  /** Budget of each check; a check still pending after it counts as failed. Default 2000. */
  checkTimeoutMs?: number;
  /**
   * At start, run the checks every this many ms until they all pass (see
   * {@link watchStartupReadiness}). Default 5000; 0: off.
   */
  startupCheckIntervalMs?: number;
}

/** A listening health server. */
export interface HealthServer {
  /** The port actually bound. */
  readonly port: number;
  /**
   * Marks the service as stopping: from now on GET /readyz answers 503 `{status: 'draining'}` (the
   * service no longer takes work), while /healthz and /metrics go on until close().
   */
  drain(): void;
  /** Stops accepting connections, drops idle keep-alive ones, and resolves once closed. */
  close(): Promise<void>;
}

/** Outcome of one GET /readyz: the failed checks by name with their error messages. */
export type ReadinessReport = { ready: true } | { ready: false; failed: Record<string, string> };

/** Runs every check concurrently, each bounded by `timeoutMs`, and reports those that failed. */
export async function runChecks(
  checks: Record<string, HealthCheck>,
  timeoutMs: number,
): Promise<ReadinessReport> {
  const names = Object.keys(checks);
  const results = await Promise.allSettled(
    // Promise.resolve().then() turns a check that throws synchronously into a rejection.
    names.map((name) => withTimeout(Promise.resolve().then(checks[name]), timeoutMs)),
  );
  const failed: Record<string, string> = {};
  results.forEach((result, index) => {
    if (result.status === 'rejected') failed[names[index] ?? ''] = describeError(result.reason);
  });
  return Object.keys(failed).length === 0 ? { ready: true } : { ready: false, failed };
}

function describeError(reason: unknown): string {
  return reason instanceof Error ? reason.message || reason.name : String(reason);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

const ROUTES = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * At a service's start, runs `isReady` (the first time after a second, as the service's connections
 * are still opening, then every `intervalMs`) until it resolves true; the check itself logs 'not
 * ready' with the reasons and then 'ready', so a wrong DATABASE_URL shows at once, not only when
 * something probes /readyz. Nothing runs once ready: probes take over. Returns a function that stops
 * the watch.
 */
export function watchStartupReadiness(
  isReady: () => Promise<boolean>,
  options: { logger: Logger; intervalMs: number },
): () => void {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const schedule = (ms: number): void => {
    timer = setTimeout(watch, ms);
    timer.unref();
  };
  const watch = (): void => {
    isReady().then(
      (ready) => {
        if (!ready && !stopped) schedule(options.intervalMs);
      },
      (err: unknown) => options.logger.error({ err }, 'readiness check failed'),
    );
  };
  schedule(Math.min(1000, options.intervalMs));
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/**
 * Starts a node:http server with GET /healthz (200 `{status:'ok'}` while the process runs), GET /readyz
 * (200 `{status:'ok'}` when every check passes in time, else 503 `{status:'unavailable', failed:{name: message}}`;
 * 503 `{status:'draining'}` once drain() was called)
 * and GET /metrics (Prometheus text). Other methods on these paths get 405, other paths 404.
 * Resolves once listening; rejects when the port cannot be bound.
 */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const { logger, registry, checks } = options;
  const checkTimeoutMs = options.checkTimeoutMs ?? 2000;
  let wasReady: boolean | undefined;
  let draining = false;

  // Probes come every few seconds: log transitions only, not every failed probe.
  async function check(): Promise<ReadinessReport> {
    const report = await runChecks(checks, checkTimeoutMs);
    if (report.ready !== wasReady) {
      if (report.ready) logger.info('ready');
      else logger.warn({ failed: report.failed }, 'not ready');
      wasReady = report.ready;
    }
    return report;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (!ROUTES.has(path)) return sendJson(res, 404, { status: 'not_found' });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendJson(res, 405, { status: 'method_not_allowed' });
    }
    if (path === '/healthz') return sendJson(res, 200, { status: 'ok' });
    if (path === '/metrics') {
      const text = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(text);
      return;
    }
    if (draining) return sendJson(res, 503, { status: 'draining' });
    const report = await check();
    if (report.ready) return sendJson(res, 200, { status: 'ok' });
    return sendJson(res, 503, { status: 'unavailable', failed: report.failed });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.error({ err, url: req.url }, 'health server request failed');
      if (!res.headersSent) sendJson(res, 500, { status: 'error' });
      else res.destroy();
    });
  });

  await new Promise<void>((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException): void => reject(portError(err, options.port));
    server.once('error', fail);
    server.listen({ port: options.port, host: options.host }, () => {
      server.off('error', fail);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err }, 'health server error'));
  const port = (server.address() as AddressInfo).port;
  logger.info({ port }, 'health server listening');

  const startupIntervalMs = options.startupCheckIntervalMs ?? 5000;
  const stopWatching =
    startupIntervalMs > 0
      ? watchStartupReadiness(async () => (await check()).ready, { logger, intervalMs: startupIntervalMs })
      : () => {};

  return {
    port,
    drain: () => {
      if (!draining) logger.info('draining: not ready');
      draining = true;
      stopWatching();
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        stopWatching();
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

/**
 * A port that cannot be bound, said in terms of the setting to change (a ConfigError: the service stops
 * with one line, as on a bad variable); other listen errors as they are.
 */
export function portError(err: NodeJS.ErrnoException, port: number, variable = 'HEALTH_PORT'): Error {
  if (err.code !== 'EADDRINUSE' && err.code !== 'EACCES') return err;
  const why = err.code === 'EADDRINUSE' ? 'is already in use' : 'may not be opened by this user';
  const hint = variable === 'HEALTH_PORT' ? ', or 0 for any free one' : '';
  return new ConfigError([
    { variable, problem: `port ${port} ${why} (${err.message}); set ${variable} to another port${hint}` },
  ]);
}
