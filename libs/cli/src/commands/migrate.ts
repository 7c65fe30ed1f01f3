import { createSql, defaultMigrationsDir, migrate } from '@relay/db';
import { CliError } from '../errors.js';

/** Applies infra/migrations to DATABASE_URL; returns what was applied. */
export async function runMigrations(databaseUrl: string, print: (line: string) => void): Promise<void> {
  const sql = createSql(databaseUrl, { max: 1, applicationName: 'relay-migrate' });
  try {
    const result = await migrate(sql, { dir: defaultMigrationsDir() });
    for (const name of result.applied) print(`migrate: applied ${name}`);
    if (result.applied.length === 0) print(`migrate: up to date (${result.skipped.length} migrations)`);
  } catch (err) {
    throw new CliError(`migrate: ${redact((err as Error).message)} (DATABASE_URL=${redact(databaseUrl)})`);
  } finally {
    await sql.end({ timeout: 5 });
  }
}

function redact(text: string): string {
  return text.replace(/(\/\/[^:/@]+:)[^@]*@/g, '$1***@');
}
