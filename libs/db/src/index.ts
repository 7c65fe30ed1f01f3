export {
  type CreateSqlOptions,
  checkDatabase,
  createKeyedSql,
  createSql,
  IDLE_IN_TRANSACTION_TIMEOUT_MS,
  KEYED_BATCH_MAX,
  type Sql,
  type TransactionSql,
} from './client.js';
export {
  DatabaseUnavailableError,
  DbError,
  MIGRATE_ADVICE,
  MigrationChecksumMismatchError,
  MigrationError,
  MigrationFailedError,
  MigrationFileError,
  PartialSchemaError,
  SchemaMissingError,
} from './errors.js';
export {
  type MigrateOptions,
  type MigrateResult,
  type MigrationLogger,
  migrate,
  RELAY_TABLES,
  SEED_TABLES,
} from './migrate.js';
export {
  DEFAULT_DATABASE_URL,
  formatMigrateResult,
  type MigrateCommandOptions,
  redactUrl,
  runMigrateCommand,
} from './migrate-command.js';
export {
  computeChecksum,
  defaultMigrationsDir,
  type MigrationFile,
  readMigrationFiles,
} from './migration-files.js';
