/** Base class of every error raised by @relay/db. */
export class DbError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DbError';
  }
}

/** The database did not answer a readiness probe in time (or refused the connection). Retryable. */
export class DatabaseUnavailableError extends DbError {
  readonly timeoutMs: number;
  constructor(message: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DatabaseUnavailableError';
    this.timeoutMs = timeoutMs;
  }
}

/** What to do about a database without the Relay schema (said by readiness and by ingest's 503). */
export const MIGRATE_ADVICE = `apply the migrations to DATABASE_URL (npx relay migrate, or the image's "migrate" command)`;

/**
 * The database answers but lacks Relay tables: never migrated, or migrated by an older build.
 * Permanent until someone runs the migrations; the message says how.
 */
export class SchemaMissingError extends DbError {
  readonly missingTables: string[];
  constructor(missingTables: string[], tableCount: number) {
    const what =
      missingTables.length === tableCount
        ? 'database has no Relay tables'
        : `database lacks Relay tables ${missingTables.join(', ')}`;
    super(`${what}: ${MIGRATE_ADVICE}`);
    this.name = 'SchemaMissingError';
    this.missingTables = missingTables;
  }
}

/** Base class of the migration runner's errors. Permanent: retrying changes nothing. */
export class MigrationError extends DbError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

/** The migrations directory is missing, or holds a `.sql` file that breaks the `NNN_name.sql` rule. */
export class MigrationFileError extends MigrationError {
  readonly path: string;
  constructor(message: string, path: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'MigrationFileError';
    this.path = path;
  }
}

/** A migration recorded as applied no longer has the content it was applied with. */
export class MigrationChecksumMismatchError extends MigrationError {
  readonly migration: string;
  readonly recordedChecksum: string;
  readonly fileChecksum: string;
  constructor(migration: string, recordedChecksum: string, fileChecksum: string) {
    super(
      `migration ${migration} was applied with checksum ${recordedChecksum} but the file now has checksum ` +
        `${fileChecksum}: a landed migration must never be edited; restore the file and add a new migration`,
    );
    this.name = 'MigrationChecksumMismatchError';
    this.migration = migration;
    this.recordedChecksum = recordedChecksum;
    this.fileChecksum = fileChecksum;
  }
}

/**
 * Some, but not all, of the seed's tables exist while 001 is not recorded: the database was neither
 * created by these migrations nor by Docker's initdb, and the runner refuses to guess.
 */
export class PartialSchemaError extends MigrationError {
  readonly present: readonly string[];
  readonly missing: readonly string[];
  constructor(migration: string, present: readonly string[], missing: readonly string[]) {
    super(
      `cannot record ${migration} as already applied: the database has the tables ${present.join(', ')} ` +
        `but not ${missing.join(', ')}; migrate an empty database or one fully initialised by ${migration}`,
    );
    this.name = 'PartialSchemaError';
    this.present = present;
    this.missing = missing;
  }
}

/** A migration's SQL failed; its transaction was rolled back and nothing of it was recorded. */
export class MigrationFailedError extends MigrationError {
  readonly migration: string;
  /** 1-based line of the failing statement in the file, when Postgres reported a position. */
  readonly line: number | undefined;
  constructor(migration: string, line: number | undefined, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`migration ${migration} failed${line === undefined ? '' : ` at line ${line}`}: ${reason}`, {
      cause,
    });
    this.name = 'MigrationFailedError';
    this.migration = migration;
    this.line = line;
  }
}
