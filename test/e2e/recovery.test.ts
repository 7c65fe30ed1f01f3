import { waitFor } from '@relay/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Fleet, startFleet } from './fleet.js';
import { findViolations } from './invariants.js';

// A worker killed with SIGKILL mid-task: the reaper notices the stale heartbeat, the task runs
// again on another worker, and the run succeeds.
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({
    label: 'recovery',
    workers: 1,
    env: { RELAY_HEARTBEAT_INTERVAL_MS: '200', RELAY_HEARTBEAT_TIMEOUT_MS: '1500' },
  });
}, 60_000);

afterAll(async () => {
  await fleet?.stop();
});

it('re-queues the task of a worker killed with SIGKILL and the run succeeds', async () => {
  await fleet.applyYaml(`
id: survivor
tasks:
  work: { type: sleep, retries: 2, with: { duration: 2s } }
  after: { needs: [work], type: noop }
`);
  const runId = await fleet.startRun('survivor');
  await waitFor(async () => {
    const [row] = await fleet.sql<{ status: string }[]>`
      SELECT status FROM task_runs WHERE run_id = ${runId} AND task_id = 'work'`;
    return row?.status === 'RUNNING';
  });
  const victim = fleet.processes.get('worker-1')!;
  victim.kill('SIGKILL');
  await victim.exited;
  const killedAt = Date.now();
  await fleet.spawn('worker', 'worker-2');

  const run = await fleet.waitForRun(runId, 30_000);
  expect(run.status).toBe('SUCCESS');
  const work = run.tasks.find((t) => t.taskId === 'work')!;
  expect(work.attempt).toBe(2);
  expect(Date.now() - killedAt).toBeLessThan(20_000);
  expect(await findViolations(fleet.sql, fleet.redis, fleet.prefix, runId)).toEqual([]);
});
