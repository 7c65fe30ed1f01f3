import { createSql } from '@relay/db';
import { DEFAULT_TEST_ADMIN_URL, waitFor } from '@relay/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findViolations } from './check.js';
import { FAULT_ENV, type FaultFleet, startFaultFleet } from './fleet.js';

// The database goes away for three heartbeat timeouts while a task runs on a live worker, which
// cannot heartbeat meanwhile: when it is back, the reaper must not take the task for stalled (a
// black-box audit lost every run of a 20 s outage so). Only this fleet's database is cut off: no new
// connections, and every service's session ended as soon as it opens one.
const SERVICES = ['relay-scheduler', 'relay-dispatcher', 'relay-worker', 'relay-reaper', 'relay-ingest'];
let fleet: FaultFleet;

beforeAll(async () => {
  // Heartbeats as sparse as the timeout allows: after the outage the reaper (every 375 ms) would
  // otherwise look before the worker's next heartbeat.
  fleet = await startFaultFleet({
    label: 'db-outage',
    workers: 1,
    env: { RELAY_HEARTBEAT_INTERVAL_MS: '1400' },
  });
  await fleet.applyYaml(`
id: outlast
tasks:
  long: { type: shell, with: { command: 'sleep 6; echo done' } }
  after: { needs: [long], type: noop }
`);
});

afterAll(async () => {
  await fleet?.stop();
});

it('keeps the attempts of live workers through a database outage longer than the heartbeat timeout', async () => {
  const runId = await fleet.startRun('outlast');
  await waitFor(async () => {
    const [row] = await fleet.sql<{ status: string }[]>`
      SELECT status FROM task_runs WHERE run_id = ${runId} AND task_id = 'long'`;
    return row?.status === 'RUNNING';
  });
  const [{ name } = { name: '' }] = await fleet.sql<{ name: string }[]>`SELECT current_database() AS name`;
  const outageMs = 3 * Number(FAULT_ENV.RELAY_HEARTBEAT_TIMEOUT_MS);
  // From the server's postgres database: a session cannot bar connections to its own.
  const admin = createSql(process.env.RELAY_TEST_ADMIN_URL ?? DEFAULT_TEST_ADMIN_URL, { max: 1 });
  try {
    await admin.unsafe(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS false`);
    for (const end = Date.now() + outageMs; Date.now() < end; ) {
      await admin`
        SELECT pg_terminate_backend(pid) FROM pg_stat_activity
        WHERE datname = ${name} AND application_name = ANY(${SERVICES}::text[])`;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await admin.unsafe(`ALTER DATABASE "${name}" ALLOW_CONNECTIONS true`);
    await admin.end({ timeout: 5 });
  }
  const statuses = await fleet.waitForRuns([runId], 60_000);
  expect(statuses.get(runId), fleet.logs(20)).toBe('SUCCESS');
  const attempts = await fleet.sql<{ status: string }[]>`
    SELECT a.status FROM task_attempts a JOIN task_runs t ON t.id = a.task_run_id
    WHERE t.run_id = ${runId} AND t.task_id = 'long'`;
  expect(attempts.map((a) => a.status)).toEqual(['SUCCESS']);
  expect(fleet.exits).toEqual([]);
  expect(await findViolations(fleet.sql, [runId])).toEqual([]);
});
