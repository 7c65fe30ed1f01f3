import { runMigrateCommand } from '@relay/db';
import { CliError } from '../errors.js';

/** Applies infra/migrations to DATABASE_URL, one line per migration; throws on failure. */
export async function runMigrations(databaseUrl: string, print: (line: string) => void): Promise<void> {
  let failure = '';
  const code = await runMigrateCommand({
    databaseUrl,
    out: (line) => print(`migrate: ${line}`),
    err: (line) => {
      failure = line;
    },
  });
  if (code !== 0) throw new CliError(failure || 'migrate failed');
}
