// A process with Relay's process guards whose first Postgres connection is cut while postgres.js
// fetches array types, its first query on every new connection (used by pg-connect-reset.test.ts).
// Argv: the proxy's URL. Logs (JSON lines) what happens; exits 0 once a later query succeeds.
import { createSql } from '@relay/db';
import { createLogger, installProcessGuards } from '@relay/runtime';

const logger = createLogger({ service: 'pg-connect-reset', level: 'info' });
installProcessGuards(logger);
const url = process.argv[2] as string;
const sql = createSql(url, { max: 1, applicationName: 'relay-connect-reset' });
try {
  await sql`SELECT 1 AS ok`;
  logger.info('first query succeeded');
} catch (err) {
  logger.info({ err }, 'first query failed');
}
// Give the dropped promise time to surface as an unhandled rejection.
await new Promise((resolve) => setTimeout(resolve, 200));
const [row] = await sql<[{ ok: number }]>`SELECT 1 AS ok`;
logger.info({ ok: row.ok }, 'still running');
await sql.end();
