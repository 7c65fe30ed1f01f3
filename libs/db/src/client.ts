import { connect, type Socket } from 'node:net';
import { applyTcpTimeouts, DEFAULT_TCP_TIMEOUTS, type TcpTimeouts } from '@relay/runtime';
import postgres from 'postgres';
import { DatabaseUnavailableError, SchemaMissingError } from './errors.js';
import { RELAY_TABLES } from './migrate.js';

/** A pooled postgres.js client (tagged-template queries, `sql.begin`, `sql.reserve`). */
export type Sql = postgres.Sql;
/** The client handed to a `sql.begin(...)` callback. */
export type TransactionSql = postgres.TransactionSql;

/** Options of {@link createSql}. */
export interface CreateSqlOptions {
  /** Pool size (default 10). */
  max?: number;
  /** Seconds an idle connection stays open (default 30; 0 keeps connections forever). */
  idleTimeoutS?: number;
  /** Seconds to wait for a connection before the query fails (default 10). */
  connectTimeoutS?: number;
  /** `application_name` shown in pg_stat_activity (default `relay`). */
  applicationName?: string;
  /**
   * How statements are planned (default `custom`). `generic`: once per connection and statement, for
   * a pool that only runs small batches looked up by key (see {@link createKeyedSql}).
   */
  plans?: 'custom' | 'generic';
  /** Milliseconds the server lets a session sit idle inside a transaction before ending it (default 30000). */
  idleInTransactionTimeoutMs?: number;
  /** How soon a connection to a server gone silent fails (default {@link DEFAULT_TCP_TIMEOUTS}). */
  tcpTimeouts?: TcpTimeouts;
}

/**
 * Largest batch (ids, or rows of a batch's plan) a statement may take to the keyed pool. Generic plans
 * assume an array parameter holds 10 elements, so this stays near that.
 */
export const KEYED_BATCH_MAX = 16;

const DEFAULT_MAX = 10;
const DEFAULT_IDLE_TIMEOUT_S = 30;
const DEFAULT_CONNECT_TIMEOUT_S = 10;
/** The server ends a session idle inside a transaction for this long (see createSql). */
export const IDLE_IN_TRANSACTION_TIMEOUT_MS = 30_000;

/**
 * Creates a pooled client for `url`. Prepared statements are on, server notices (`RAISE NOTICE`,
 * "relation already exists, skipping") are silenced, and json/jsonb come back parsed, as postgres.js
 * does by default. Connections open lazily: creating the client never fails on an unreachable server.
 * Call `sql.end()` to close the pool.
 */
export function createSql(url: string, opts: CreateSqlOptions = {}): Sql {
  const generic = opts.plans === 'generic';
  const tcpTimeouts = opts.tcpTimeouts ?? DEFAULT_TCP_TIMEOUTS;
  return postgres(url, {
    max: opts.max ?? DEFAULT_MAX,
    idle_timeout: opts.idleTimeoutS ?? DEFAULT_IDLE_TIMEOUT_S,
    connect_timeout: opts.connectTimeoutS ?? DEFAULT_CONNECT_TIMEOUT_S,
    keep_alive: tcpTimeouts.keepAliveIdleS,
    // postgres.js reads a socket factory from `socket`, which its types leave out.
    ...({ socket: timedSocket(tcpTimeouts) } as object),
    prepare: true,
    onnotice: () => {},
    connection: {
      application_name: opts.applicationName ?? 'relay',
      // Plan every execution with its real parameters. The hot statements take a batch of ids
      // (`t.id = ANY($1)`); a cached generic plan cannot see the batch and, once statistics say few
      // rows are READY or unpropagated, walks a status index over a whole 100k backlog instead of
      // the primary key (measured: a 100k fan-out after 1,000 small runs took 97 s instead of 18 s).
      // Parsing is still saved by the prepared statement; planning a batch statement costs ~0.1 ms.
      // A keyed pool plans each statement once, with no parameter values: planning is the larger part of
      // a one-row statement (a chain step's promotion: 0.32 ms to plan, 0.18 ms to run), and three such
      // statements sit on a chain step's critical path. Sequential scans are off there so that no plan
      // made on an empty, never-analyzed table (a fresh database) can outlive its growth: every
      // statement sent to a keyed pool finds its rows by key (KEYED_BATCH_MAX of them at most).
      plan_cache_mode: generic ? 'force_generic_plan' : 'force_custom_plan',
      // JIT off there too: a disabled sequential scan is priced at 1e10, far past jit_above_cost, so any
      // plan that still needs one is JIT-compiled every time (postgres.js's array-type query on each new
      // connection took 106-136 ms, 100 of them compiling).
      ...(generic ? { enable_seqscan: 'off', jit: 'off' } : {}),
      // Random reads cost what sequential ones do once the working set is cached (and on SSDs): at
      // the default 4 the planner read a whole task_runs heap, dead versions included, rather than
      // probe the primary key 200 times for a worker's batch (23 ms instead of ~1 ms at 10k rows).
      random_page_cost: '1.1',
      // A process that stops inside a transaction (frozen, partitioned, stuck in a long GC) would hold
      // its row locks until the server noticed the dead connection (TCP keepalive: 2 hours by default),
      // and every replica waiting on those rows with it: a black-box audit froze one of two schedulers
      // mid-transaction and the whole fleet stood still. Relay's transactions never wait on anything
      // between their statements; the server ends one idle this long, and the locks go.
      idle_in_transaction_session_timeout: opts.idleInTransactionTimeoutMs ?? IDLE_IN_TRANSACTION_TIMEOUT_MS,
    },
  });
}

/** What postgres.js hands a socket factory: its parsed hosts, ports and Unix socket path. */
interface SocketTarget {
  host: string[];
  port: number[];
  path?: string | false;
}

/**
 * A socket factory for postgres.js that connects as postgres.js itself would (a Unix socket path, or
 * the hosts in turn) and, once connected over TCP, sets `timeouts` (see {@link applyTcpTimeouts}):
 * a server that vanishes mid-query fails the query with ETIMEDOUT in seconds, and the caller's
 * connection-loss handling takes over, where Linux alone would hang it for ~15 minutes. postgres.js
 * runs its connect timeout, TLS upgrade and startup on the socket returned, still connecting.
 */
function timedSocket(timeouts: TcpTimeouts): (target: SocketTarget) => Socket {
  let next = 0;
  return (target) => {
    if (target.path) return connect(target.path);
    const i = next++ % target.host.length;
    const host = target.host[i] ?? 'localhost';
    const port = target.port[i] ?? 5432;
    const socket = connect(port, host);
    // postgres.js names the TLS server (SNI, certificate check) and its connection errors by these.
    Object.assign(socket, { host, port });
    socket.once('connect', () => applyTcpTimeouts(socket, timeouts));
    return socket;
  };
}

/**
 * The small pool a service sends its keyed hot statements to when a batch is small (at most
 * {@link KEYED_BATCH_MAX} keys): plans are made once per connection (see `plans: 'generic'`), which
 * takes 0.1-0.3 ms off each such statement. Big batches stay on the main pool, planned per execution.
 */
export function createKeyedSql(url: string, opts: { applicationName: string; max?: number }): Sql {
  return createSql(url, { applicationName: opts.applicationName, max: opts.max ?? 2, plans: 'generic' });
}

/**
 * Readiness probe: resolves when the database answers within `timeoutMs` (default 2000) and holds
 * every Relay table; throws {@link DatabaseUnavailableError} when it does not answer (with the
 * driver's error as `cause` when there is one) and {@link SchemaMissingError} when tables are missing
 * (a database nobody migrated yet, or one older than this build), so a service is not ready, and says
 * why, instead of answering every request with "relation does not exist".
 */
export async function checkDatabase(sql: Sql, timeoutMs = 2000): Promise<void> {
  const query = sql<{ missing: string[] }[]>`
    SELECT coalesce(array_agg(t ORDER BY n), '{}') AS missing
    FROM unnest(${[...RELAY_TABLES]}::text[]) WITH ORDINALITY AS u(t, n)
    WHERE to_regclass(t) IS NULL`;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  let missing: string[];
  try {
    const outcome = await Promise.race([query, timeout]);
    if (outcome === 'timeout') {
      // The query may still be waiting for a connection; cancel it so it does not linger in the pool.
      query.cancel();
      query.catch(() => {});
      throw new DatabaseUnavailableError(`database did not answer within ${timeoutMs}ms`, timeoutMs);
    }
    missing = outcome[0]?.missing ?? [];
  } catch (err) {
    if (err instanceof DatabaseUnavailableError) throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new DatabaseUnavailableError(`database is not reachable: ${reason}`, timeoutMs, { cause: err });
  } finally {
    clearTimeout(timer);
  }
  if (missing.length > 0) throw new SchemaMissingError(missing, RELAY_TABLES.length);
}
