import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MigrationFileError } from './errors.js';

/** One `NNN_name.sql` file of a migrations directory. */
export interface MigrationFile {
  /** File name, e.g. `002_pipeline.sql`; the key recorded in `relay_migrations`. */
  name: string;
  /** The `NNN` prefix as a number (1 for `001_init.sql`). */
  version: number;
  path: string;
  /** The file's text, run as one multi-statement script. */
  sql: string;
  /** sha256 of the file's bytes, hex. */
  checksum: string;
}

const MIGRATION_NAME = /^(\d{3})_[a-z0-9][a-z0-9_-]*\.sql$/;

/**
 * `<repo>/infra/migrations`, resolved from this module's location: the module sits one directory
 * below the package root both as `src/*.ts` and as `dist/*.js`, and the package is `<repo>/libs/db`.
 */
export function defaultMigrationsDir(): string {
  return fileURLToPath(new URL('../../../infra/migrations/', import.meta.url));
}

/** sha256 of `content`, hex. */
export function computeChecksum(content: string | Uint8Array): string {
  return createHash('sha256').update(content).digest('hex');
}

/**
 * Reads every `.sql` file of `dir`, ordered by version. Other files (README, .keep) are ignored; a
 * `.sql` file not named `NNN_name.sql` (lower-case name), two files sharing a number, or an empty
 * directory is a {@link MigrationFileError}: Docker's initdb would run such a file too, in an order
 * the runner cannot reproduce.
 */
export async function readMigrationFiles(dir: string): Promise<MigrationFile[]> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    throw new MigrationFileError(`cannot read migrations directory ${dir}: ${String(err)}`, dir, {
      cause: err,
    });
  }
  const files: MigrationFile[] = [];
  const byVersion = new Map<number, string>();
  for (const name of entries.filter((entry) => entry.endsWith('.sql')).sort()) {
    const path = join(dir, name);
    const match = MIGRATION_NAME.exec(name);
    if (!match) {
      throw new MigrationFileError(
        `migration file ${path} must be named NNN_name.sql (three digits, lower-case name)`,
        path,
      );
    }
    const version = Number(match[1]);
    const clash = byVersion.get(version);
    if (clash !== undefined) {
      throw new MigrationFileError(`migration files ${clash} and ${name} share the number ${match[1]}`, path);
    }
    byVersion.set(version, name);
    const bytes = await readFile(path);
    files.push({ name, version, path, sql: bytes.toString('utf8'), checksum: computeChecksum(bytes) });
  }
  if (files.length === 0) {
    throw new MigrationFileError(`migrations directory ${dir} holds no NNN_name.sql file`, dir);
  }
  return files.sort((a, b) => a.version - b.version);
}
