import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '@relay/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { isAlive } from '../../services/worker/test/fixtures.js';
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

it('takes down the processes of a shell task with the worker killed by SIGKILL', async () => {
  // Its own queue and worker: the task cannot land on the first test's worker.
  await fleet.applyYaml(`
id: orphans
tasks:
  bg:
    type: shell
    queue: orphans
    with: { command: 'sleep 60 & echo $! > "$PIDFILE"; wait', env: { PIDFILE: "\${{ input.pidFile }}" } }
`);
  const worker = await fleet.spawn('worker', 'worker-orphans', { RELAY_WORKER_QUEUES: 'orphans' });
  const pidFile = join(tmpdir(), `relay-orphan-${randomUUID()}`);
  try {
    await fleet.startRun('orphans', { pidFile });
    const pid = await waitFor(() => (existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0), {
      message: 'the shell task to start its background sleep',
    });
    expect(isAlive(pid)).toBe(true);
    worker.kill('SIGKILL');
    await worker.exited;
    // No worker is left to kill it: the group's guard sees the worker's pipe close and does.
    await waitFor(() => !isAlive(pid), { timeoutMs: 5000, message: `sleep ${pid} to die with its worker` });
  } finally {
    rmSync(pidFile, { force: true });
  }
});
