import { FAULT_EXIT_CODE } from '@relay/runtime';
import { waitFor } from '@relay/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findViolations } from './check.js';
import { type FaultFleet, type ServiceName, startFaultFleet } from './fleet.js';

// A crash between a handler's commit and its publish (RELAY_FAULT_EXIT_AT): the state is written but
// its event never leaves. The supervisor spawns a replacement (without the fault point) and the runs
// finish: the unacked event is redelivered and re-announces what the state implies, or the reaper's
// reconciler re-publishes it from Postgres.
let fleet: FaultFleet;

beforeAll(async () => {
  fleet = await startFaultFleet({ label: 'commit-publish', workers: 1, supervise: true });
  await fleet.applyYaml(`
id: relay-race
tasks:
  a: { type: noop }
  b: { needs: [a], type: noop }
  c: { needs: [b], type: noop }
`);
});

afterAll(async () => {
  await fleet?.stop();
});

it.each<[ServiceName, string]>([
  ['scheduler', 'scheduler.after-commit'],
  ['dispatcher', 'dispatcher.after-commit'],
  ['worker', 'worker.after-commit'],
])('finishes the runs of a %s that crashes at %s', async (service, point) => {
  // Swap the service's process for one armed with the fault point (its second hit: mid-run).
  fleet.supervise(false);
  for (const label of fleet.running(service)) await fleet.processes.get(label)?.stop();
  const armed = fleet.spawn(service, { RELAY_FAULT_EXIT_AT: `${point}:2` });
  fleet.supervise(true);
  const ids: string[] = [];
  for (let i = 0; i < 3; i += 1) ids.push(await fleet.startRun('relay-race'));
  const exit = await armed.exited;
  expect(exit.code).toBe(FAULT_EXIT_CODE);
  await waitFor(() => fleet.running(service).length === 1, { message: `no ${service} replacement` });
  const statuses = await fleet.waitForRuns(ids, 60_000);
  expect([...statuses.values()]).toEqual(ids.map(() => 'SUCCESS'));
  expect(await findViolations(fleet.sql, ids)).toEqual([]);
});
