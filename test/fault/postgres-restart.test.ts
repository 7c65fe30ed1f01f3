import { afterAll, beforeAll, expect, it } from 'vitest';
import { findViolations } from './check.js';
import { type FaultFleet, startFaultFleet } from './fleet.js';
import { localRestartsUnavailable, restartPostgres } from './infra.js';
import { waitForProgress } from './progress.js';

const restartsUnavailable = localRestartsUnavailable();
if (restartsUnavailable) process.stderr.write(`skipping restart tests: ${restartsUnavailable}\n`);

// A Postgres restart drops every connection of every service mid-run: no process dies (they retry
// and reconnect) and every run in flight finishes.
let fleet: FaultFleet;

beforeAll(async () => {
  fleet = await startFaultFleet({ label: 'pg-restart', workers: 2 });
  await fleet.applyYaml(`
id: steady
tasks:
  a: { type: sleep, with: { duration: 200ms } }
  b: { needs: [a], type: sleep, retries: 2, with: { duration: 800ms } }
  c: { needs: [a], type: sleep, retries: 2, with: { duration: 800ms } }
  d: { needs: [b, c], type: noop, retries: 2 }
`);
});

afterAll(async () => {
  await fleet?.stop();
});

it.skipIf(restartsUnavailable !== null)(
  'keeps every process alive and finishes every run across a Postgres restart',
  async () => {
    const ids: string[] = [];
    for (let i = 0; i < 6; i += 1) ids.push(await fleet.startRun('steady'));
    await waitForProgress(fleet.sql, ids, 3);
    const before = new Map([...fleet.processes].map(([label, p]) => [label, p.pid]));
    await restartPostgres();
    const statuses = await fleet.waitForRuns(ids, 60_000);
    expect([...statuses.values()]).toEqual(ids.map(() => 'SUCCESS'));
    const gone = [...before].filter(([label, pid]) => {
      const proc = fleet.processes.get(label);
      return proc?.pid !== pid || !proc.isRunning();
    });
    // On failure: which process went, how it exited, and its last log lines.
    const why = () => `${JSON.stringify(fleet.exits)}\n${fleet.logs(40)}`;
    expect(gone, why()).toEqual([]);
    expect(fleet.exits, why()).toEqual([]);
    expect(await findViolations(fleet.sql, ids)).toEqual([]);
  },
);
