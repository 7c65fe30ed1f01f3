import { MIGRATE_ADVICE } from '@relay/db';
import { DependencyUnavailableError } from './errors.js';

type Dependency = 'postgres' | 'redis';

// postgres.js and Node error codes that mean "the server is not there", not "the query is wrong".
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);

/** True when `err` says the dependency is unreachable (connection refused, closed, shutting down). */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code !== 'string') return err.message.includes('Connection is closed');
  // SQLSTATE class 08 (connection exception), 57P0x (server shutting down), 53300 (too many connections).
  return CONNECTION_CODES.has(code) || code.startsWith('08') || code.startsWith('57P0') || code === '53300';
}

/** SQLSTATE undefined_table: ingest names only its own tables, so this means nobody migrated the database. */
const UNDEFINED_TABLE = '42P01';

/**
 * What a deadline can mean besides an outage: the deadline also counts the wait for a pooled Postgres
 * connection, so a burst of heavy requests to this ingest reads as a slow database.
 */
const SLOW: Record<Dependency, string> = {
  postgres: ' (unreachable or slow, or every connection of this server busy with other requests)',
  redis: ' (unreachable or slow)',
};

/**
 * Runs `work` against a dependency with a deadline: a call that takes longer than `timeoutMs` or fails to
 * reach the server rejects with {@link DependencyUnavailableError} (503) instead of hanging the request.
 * A missing table (a database nobody migrated) is a 503 that says to migrate. Other errors (a bug, a
 * constraint violation) pass through unchanged. The underlying call is not cancelled:
 * a write may still commit after the deadline, which is why every write of ingest is idempotent or harmless.
 */
export async function withDeadline<T>(
  dependency: Dependency,
  timeoutMs: number,
  work: () => Promise<T>,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new DependencyUnavailableError(dependency, `no answer within ${timeoutMs} ms${SLOW[dependency]}`),
        ),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([work(), deadline]);
  } catch (err) {
    if (err instanceof DependencyUnavailableError) throw err;
    if (isConnectionError(err)) {
      throw new DependencyUnavailableError(dependency, (err as Error).message || 'connection failed', {
        cause: err,
      });
    }
    if (dependency === 'postgres' && (err as { code?: unknown } | null)?.code === UNDEFINED_TABLE) {
      const reason = `the database is not migrated (${(err as Error).message}): ${MIGRATE_ADVICE}`;
      throw new DependencyUnavailableError(dependency, reason, { cause: err });
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}
