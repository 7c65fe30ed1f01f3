/**
 * Checks Relay's run and task invariants against DATABASE_URL and prints every violation.
 * Exit 0 when none, 1 when any, 2 when the check itself could not run.
 *   npm run check:invariants [-- RUN_ID...]
 */
import { createSql } from '@relay/db';
import { checkInvariants } from '@relay/invariants';

const url = process.env.DATABASE_URL ?? 'postgres://relay:relay@localhost:5432/relay';
const timeout = Number(process.env.RELAY_HEARTBEAT_TIMEOUT_MS ?? 10_000);
const runIds = process.argv.slice(2);
const sql = createSql(url, { applicationName: 'relay-check-invariants' });
try {
  const violations = await checkInvariants(sql, {
    heartbeatTimeoutMs: timeout,
    ...(runIds.length > 0 ? { runIds } : {}),
  });
  for (const v of violations) {
    console.log(`${v.rule}\trun ${v.runId}${v.taskId ? ` task ${v.taskId}` : ''}\t${v.detail}`);
  }
  console.log(violations.length === 0 ? 'no invariant violations' : `${violations.length} violation(s)`);
  process.exitCode = violations.length === 0 ? 0 : 1;
} catch (err) {
  console.error(`check-invariants failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 2;
} finally {
  await sql.end({ timeout: 5 });
}
