import { SSLMODES } from '@relay/runtime';
import { createSql } from './client.js';
import { type MigrateResult, migrate } from './migrate.js';
import { defaultMigrationsDir, readMigrationFiles } from './migration-files.js';

/** The SPEC's default `DATABASE_URL`. */
export const DEFAULT_DATABASE_URL = 'postgres://relay:relay@localhost:5432/relay';

/** Options of {@link runMigrateCommand}; every field has a default fit for the command line. */
export interface MigrateCommandOptions {
  /** Default: `process.env.DATABASE_URL`, else {@link DEFAULT_DATABASE_URL}. */
  databaseUrl?: string;
  /** Default: {@link defaultMigrationsDir}. */
  dir?: string;
  /** Receives each output line (default: process.stdout). */
  out?: (line: string) => void;
  /** Receives the error line (default: process.stderr). */
  err?: (line: string) => void;
}

/**
 * `relay migrate` / `npm run migrate`: migrates the database, writes one line per migration
 * (`applied`, `recorded` or `skipped`), and resolves to the process exit code: 0, or 1 after writing
 * one line that names the database (password hidden) and the reason.
 */
export async function runMigrateCommand(opts: MigrateCommandOptions = {}): Promise<number> {
  const out = opts.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const err = opts.err ?? ((line: string) => process.stderr.write(`${line}\n`));
  const url = opts.databaseUrl ?? process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  const dir = opts.dir ?? defaultMigrationsDir();

  const invalid = describeInvalidUrl(url);
  if (invalid) {
    err(`migrate failed: DATABASE_URL ${invalid}`);
    return 1;
  }
  const sql = createSql(url, { max: 1, applicationName: 'relay-migrate' });
  try {
    const result = await migrate(sql, { dir });
    const files = await readMigrationFiles(dir);
    for (const line of formatMigrateResult(
      result,
      files.map((file) => file.name),
    ))
      out(line);
    return 0;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    err(`migrate failed on ${redactUrl(url)}: ${reason}`);
    return 1;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** One line per migration, in file order. */
export function formatMigrateResult(result: MigrateResult, order: readonly string[]): string[] {
  const status = new Map<string, string>();
  for (const name of result.applied) status.set(name, `applied  ${name}`);
  for (const name of result.skipped) status.set(name, `skipped  ${name} (already applied)`);
  for (const name of result.baselined) {
    status.set(name, `recorded ${name} (its tables already existed, e.g. created by Docker's initdb)`);
  }
  return order.flatMap((name) => status.get(name) ?? []);
}

/** `url` with its password replaced by `***`; unparsable input comes back as `<invalid url>`. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<invalid url>';
  }
}

function describeInvalidUrl(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'is not a valid URL (expected postgres://user:password@host:port/database)';
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    return `must start with postgres:// or postgresql://, got ${parsed.protocol}//`;
  }
  const sslmode = parsed.searchParams.get('sslmode');
  if (sslmode !== null && !(SSLMODES as readonly string[]).includes(sslmode)) {
    return `has sslmode=${sslmode}; expected one of ${SSLMODES.join(', ')}`;
  }
  return undefined;
}
