// `npm run migrate`: applies infra/migrations to DATABASE_URL (default postgres://relay:relay@localhost:5432/relay).
import { runMigrateCommand } from '@relay/db';

process.exitCode = await runMigrateCommand();
