import type postgres from 'postgres';
import type { Sql } from './client.js';
import { MigrationChecksumMismatchError, MigrationFailedError, PartialSchemaError } from './errors.js';
import { type MigrationFile, readMigrationFiles } from './migration-files.js';

/** The tables 001_init.sql (the seed's schema) creates. */
export const SEED_TABLES = ['workflows', 'runs', 'tasks', 'dependencies', 'task_runs', 'artifacts'] as const;

/** Every table the migrations create (a test holds this to the files): what a service needs to exist. */
export const RELAY_TABLES = [
  ...SEED_TABLES,
  'workflow_versions',
  'task_attempts',
  'events',
  'schedule_ticks',
  'task_decisions',
] as const;

/**
 * Session advisory lock serialising migrators of one database (advisory locks are scoped to the
 * current database, so migrators of other databases never wait on it). 0x72656c61796d = "relaym".
 */
const MIGRATION_LOCK_KEY = '125779935590765';

/** Structured logger (a pino logger fits). */
export interface MigrationLogger {
  info(fields: Record<string, unknown>, msg: string): void;
}

/** Options of {@link migrate}. */
export interface MigrateOptions {
  /** Directory of `NNN_name.sql` files; see `defaultMigrationsDir()`. */
  dir: string;
  logger?: MigrationLogger;
}

/** What {@link migrate} did, file names in order. */
export interface MigrateResult {
  /** Migrations run by this call. */
  applied: string[];
  /** Migrations already recorded with the same checksum: not run. */
  skipped: string[];
  /**
   * 001 recorded without being run because its tables already existed (Docker's initdb ran it).
   * Also listed in neither `applied` nor `skipped`.
   */
  baselined: string[];
}

type Reserved = postgres.ReservedSql;

/**
 * Applies the pending migrations of `dir` in order, each in its own transaction together with its
 * `relay_migrations` row. Holds a session advisory lock on one reserved connection for the whole run,
 * so concurrent calls (replicas starting together) serialise and the later ones apply nothing.
 *
 * A database initialised by Docker (initdb runs every file of infra/migrations once, and records
 * nothing) is recognised: when 001 is not recorded but all of the seed's tables exist, 001 is recorded
 * without being run and the later migrations run again (they are idempotent by rule). Throws
 * {@link MigrationChecksumMismatchError} before applying anything when a recorded file changed,
 * {@link PartialSchemaError} when only some seed tables exist, {@link MigrationFailedError} when a
 * migration's SQL fails (earlier migrations of this call stay applied).
 */
export async function migrate(sql: Sql, opts: MigrateOptions): Promise<MigrateResult> {
  const files = await readMigrationFiles(opts.dir);
  const conn = await sql.reserve();
  try {
    await conn`SELECT pg_advisory_lock(${MIGRATION_LOCK_KEY}::bigint)`;
    let result: MigrateResult;
    try {
      result = await applyPending(conn, files, opts.logger);
    } catch (err) {
      // When the session is gone the lock went with it: report the migration's error, not this one.
      await conn`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY}::bigint)`.catch(() => {});
      throw err;
    }
    await conn`SELECT pg_advisory_unlock(${MIGRATION_LOCK_KEY}::bigint)`;
    return result;
  } finally {
    conn.release();
  }
}

async function applyPending(
  conn: Reserved,
  files: MigrationFile[],
  logger: MigrationLogger | undefined,
): Promise<MigrateResult> {
  await conn`
    CREATE TABLE IF NOT EXISTS relay_migrations (
      name TEXT PRIMARY KEY,
      checksum TEXT NOT NULL,
      applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )`;
  const rows = await conn<{ name: string; checksum: string }[]>`SELECT name, checksum FROM relay_migrations`;
  const recorded = new Map(rows.map((row) => [row.name, row.checksum]));
  // Refuse before touching anything: a changed landed migration means the schema may not be what
  // the files describe.
  for (const file of files) {
    const checksum = recorded.get(file.name);
    if (checksum !== undefined && checksum !== file.checksum) {
      throw new MigrationChecksumMismatchError(file.name, checksum, file.checksum);
    }
  }

  const result: MigrateResult = { applied: [], skipped: [], baselined: [] };
  for (const file of files) {
    if (recorded.has(file.name)) {
      result.skipped.push(file.name);
      continue;
    }
    if (file.version === 1 && (await hasSeedSchema(conn, file.name))) {
      await conn`INSERT INTO relay_migrations (name, checksum) VALUES (${file.name}, ${file.checksum})`;
      result.baselined.push(file.name);
      logger?.info({ migration: file.name }, 'migration recorded, schema already present');
      continue;
    }
    await applyMigration(conn, file);
    result.applied.push(file.name);
    logger?.info({ migration: file.name }, 'migration applied');
  }
  return result;
}

/** True when all seed tables exist, false when none does; throws when only some do. */
async function hasSeedSchema(conn: Reserved, migration: string): Promise<boolean> {
  const rows = await conn<{ table_name: string }[]>`
    SELECT table_name FROM information_schema.tables
    WHERE table_schema = current_schema() AND table_name = ANY(${[...SEED_TABLES]})`;
  const present = new Set(rows.map((row) => row.table_name));
  if (present.size === 0) return false;
  if (present.size === SEED_TABLES.length) return true;
  const missing = SEED_TABLES.filter((table) => !present.has(table));
  throw new PartialSchemaError(
    migration,
    SEED_TABLES.filter((table) => present.has(table)),
    missing,
  );
}

/** Runs one file and records it, in one transaction (the reserved connection has no `begin()`). */
async function applyMigration(conn: Reserved, file: MigrationFile): Promise<void> {
  await conn`BEGIN`;
  try {
    // Simple-query protocol (no parameters): the file may hold many statements and $$ bodies.
    await conn.unsafe(file.sql);
    await conn`INSERT INTO relay_migrations (name, checksum) VALUES (${file.name}, ${file.checksum})`;
    await conn`COMMIT`;
  } catch (err) {
    // A broken connection has rolled back already; keep the migration's error.
    await conn`ROLLBACK`.catch(() => {});
    throw new MigrationFailedError(file.name, lineOf(file.sql, err), err);
  }
}

/** 1-based line of Postgres's error `position` (a 1-based character offset) in `text`. */
function lineOf(text: string, err: unknown): number | undefined {
  const position = Number((err as { position?: unknown } | null)?.position);
  if (!Number.isInteger(position) || position < 1) return undefined;
  return text.slice(0, position - 1).split('\n').length;
}
