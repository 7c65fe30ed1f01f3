import { constants } from 'node:os';
import type { Logger } from './logger.js';

/** The signals that ask a service to stop. */
export type ShutdownSignal = 'SIGTERM' | 'SIGINT';

/** Options of onShutdown. */
export interface OnShutdownOptions {
  logger: Logger;
  /** After the first signal, exit with code 1 if the handler has not finished within this many ms. */
  graceMs: number;
}

const SHUTDOWN_SIGNALS: readonly ShutdownSignal[] = ['SIGTERM', 'SIGINT'];

/**
 * On the first SIGTERM or SIGINT runs `handler` once (stop consuming, drain, close clients), then exits:
 * 0 when it resolves, 1 when it rejects or outlasts `graceMs`. A second signal exits at once with
 * 128 + signal number (an impatient Ctrl-C). Returns a function that removes the signal listeners.
 */
export function onShutdown(
  handler: (signal: ShutdownSignal) => Promise<void>,
  options: OnShutdownOptions,
): () => void {
  const { logger, graceMs } = options;
  let shuttingDown = false;

  const onSignal = (signal: ShutdownSignal): void => {
    if (shuttingDown) {
      logger.warn({ signal }, 'second signal, exiting now');
      process.exit(128 + constants.signals[signal]);
    }
    shuttingDown = true;
    logger.info({ signal, graceMs }, 'shutting down');
    // Not unref'd: the timer must fire even if the handler is stuck on nothing that keeps the loop alive.
    setTimeout(() => {
      logger.error({ graceMs }, 'shutdown timed out, forcing exit');
      process.exit(1);
    }, graceMs);
    handler(signal).then(
      () => {
        logger.info('shutdown complete');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };

  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, onSignal);
  return () => {
    for (const signal of SHUTDOWN_SIGNALS) process.off(signal, onSignal);
  };
}

// Socket errors of a peer that went away, and postgres.js's own codes for a closed connection.
const CONNECTION_LOSS_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ENOTCONN',
  'ETIMEDOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
]);

/**
 * Whether `reason` says only that a database or Redis connection was lost: a socket error, a closed
 * postgres.js connection, or a server refusing or ending sessions (SQLSTATE class 08, connection
 * exception, and 57P01-57P03: shutting down, crashed, starting up).
 */
export function isConnectionLoss(reason: unknown): boolean {
  if (typeof reason !== 'object' || reason === null) return false;
  const code = (reason as { code?: unknown }).code;
  if (typeof code !== 'string') return false;
  return CONNECTION_LOSS_CODES.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code);
}

/**
 * Makes a programming error fatal and visible: an unhandled rejection or uncaught exception is logged
 * at fatal with the error, then the process exits with code 1 (a supervisor restarts it) rather than
 * running on in an unknown state. Returns a function that removes the listeners.
 *
 * One kind of rejection is not ours and is only logged: a lost connection (see isConnectionLoss).
 * postgres.js fetches array types as the first query of every new connection and drops that promise
 * (porsager/postgres#1192, #1223), so a connection cut during its handshake (a Postgres restart)
 * rejects it with nobody listening, and the same error fails the query that was waiting, which its
 * caller handles. Exiting for it would turn every database restart into a service crash.
 */
export function installProcessGuards(logger: Logger): () => void {
  const onRejection = (reason: unknown): void => {
    if (isConnectionLoss(reason)) {
      logger.warn(
        { err: reason },
        'connection lost in a promise nobody awaited (a driver internal); running on',
      );
      return;
    }
    logger.fatal({ err: reason }, 'unhandled rejection');
    process.exit(1);
  };
  const onException = (err: Error, origin: string): void => {
    logger.fatal({ err, origin }, 'uncaught exception');
    process.exit(1);
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
