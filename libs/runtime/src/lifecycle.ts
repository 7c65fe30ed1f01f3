import { constants } from 'node:os';
import type { Logger } from './logger.js';

/** The signals that ask a service to stop. */
export type ShutdownSignal = 'SIGTERM' | 'SIGINT';

/** Options of onShutdown. */
export interface OnShutdownOptions {
  logger: Logger;
  /** After the first signal, exit with code 1 if the handler has not finished within this many ms. */
  graceMs: number;
  /** A second signal this soon after the first is taken as a copy of it; 500 ms when omitted. */
  copyWindowMs?: number;
}

const SHUTDOWN_SIGNALS: readonly ShutdownSignal[] = ['SIGTERM', 'SIGINT'];

/**
 * How soon after a first stop signal a second one counts as a copy of the same request rather than
 * an impatient second Ctrl-C. One key press can arrive twice: the terminal signals the whole
 * foreground process group, and npm / npx (`npm run`, `npx relay ...`) forward the SIGINT they got
 * themselves to their child, which is this process when the script shell execs it (bash does; both
 * copies arrive within a few ms). A person pressing Ctrl-C again, or an orchestrator escalating,
 * does so well after this. (`relay up`'s supervisor applies the same rule to its own signals.)
 */
const SIGNAL_COPY_WINDOW_MS = 500;

/**
 * On the first SIGTERM or SIGINT runs `handler` once (stop consuming, drain, close clients), then exits:
 * 0 when it resolves, 1 when it rejects or outlasts `graceMs`. A second signal exits at once with
 * 128 + signal number (an impatient Ctrl-C, an orchestrator escalating), unless it comes within
 * `copyWindowMs` of the first: then it is the same request delivered twice and is ignored.
 *
 * A process started with an IPC channel (`relay up` starts every service so, each in its own
 * process group) also stops gracefully when the channel closes: its supervisor has exited or was
 * killed, and a service must not run on unsupervised. Returns a function that removes the listeners.
 */
export function onShutdown(
  handler: (signal: ShutdownSignal) => Promise<void>,
  options: OnShutdownOptions,
): () => void {
  const { logger, graceMs } = options;
  const copyWindowMs = options.copyWindowMs ?? SIGNAL_COPY_WINDOW_MS;
  let firstSignalAt: number | undefined;

  const shutDown = (signal: ShutdownSignal): void => {
    firstSignalAt = Date.now();
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

  const onSignal = (signal: ShutdownSignal): void => {
    if (firstSignalAt === undefined) {
      shutDown(signal);
      return;
    }
    if (Date.now() - firstSignalAt < copyWindowMs) {
      logger.info({ signal }, 'signal repeated at once, taken as the same request');
      return;
    }
    logger.warn({ signal }, 'second signal, exiting now');
    process.exit(128 + constants.signals[signal]);
  };

  // The supervisor holds the other end of the channel; it closes when the supervisor exits, however.
  const onDisconnect = (): void => {
    if (firstSignalAt !== undefined) return;
    logger.warn('supervisor gone (IPC channel closed)');
    shutDown('SIGTERM');
  };

  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, onSignal);
  if (process.channel) process.once('disconnect', onDisconnect);
  return () => {
    for (const signal of SHUTDOWN_SIGNALS) process.off(signal, onSignal);
    process.off('disconnect', onDisconnect);
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
