import { waitFor } from '@relay/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findViolations } from './check.js';
import { FAULT_ENV, type FaultFleet, startFaultFleet } from './fleet.js';
import { taskRow, waitForTask } from './rows.js';

// Workers that die (SIGKILL) or freeze (SIGSTOP) while holding a task: the reaper re-queues the task
// once its heartbeat is older than RELAY_HEARTBEAT_TIMEOUT_MS, another worker runs it, and a late
// result of the frozen worker is discarded.
let fleet: FaultFleet;
const runIds: string[] = [];

beforeAll(async () => {
  fleet = await startFaultFleet({ label: 'worker-crash', workers: 0 });
  await fleet.applyYaml(`
id: crash
tasks:
  work:
    type: shell
    retries: 2
    with: { command: 'if [ "$RELAY_ATTEMPT" = 1 ]; then sleep 30; fi; echo "$RELAY_ATTEMPT"' }
  after: { needs: [work], type: noop }
`);
});

afterAll(async () => {
  await fleet?.stop();
});

it('re-runs the task of a worker killed with SIGKILL mid-task', async () => {
  const victim = fleet.spawn('worker');
  const runId = await fleet.startRun('crash');
  runIds.push(runId);
  await waitForTask(fleet.sql, runId, 'work', (r) => r.status === 'RUNNING' && r.attempt === 1);
  // Past the first heartbeats: the task is mid-way.
  await waitFor(() => victim.logs().some((l) => l.includes('task claimed')));
  await new Promise((resolve) => setTimeout(resolve, 600));
  victim.kill('SIGKILL');
  const killedAt = Date.now();
  await victim.exited;
  fleet.spawn('worker');
  await waitForTask(fleet.sql, runId, 'work', (r) => r.attempt === 2 && r.status !== 'QUEUED', 20_000, 10);
  console.info(
    `[fault] worker SIGKILL -> task RUNNING again in ${Date.now() - killedAt} ms (heartbeat timeout ${FAULT_ENV.RELAY_HEARTBEAT_TIMEOUT_MS} ms)`,
  );
  expect(await fleet.waitForRuns([runId])).toEqual(new Map([[runId, 'SUCCESS']]));
  const row = await taskRow(fleet.sql, runId, 'work');
  expect(row).toMatchObject({ status: 'SUCCESS', attempt: 2, output: '2' });
  expect(await findViolations(fleet.sql, runIds)).toEqual([]);
});

it('re-runs the task of a worker killed before its first heartbeat', async () => {
  for (const label of fleet.running('worker')) await fleet.processes.get(label)?.stop();
  // A heartbeat interval far beyond the test: the claim's heartbeat_at is the only one ever written.
  const victim = fleet.spawn('worker', {
    RELAY_HEARTBEAT_INTERVAL_MS: '60000',
    RELAY_HEARTBEAT_TIMEOUT_MS: '120000',
  });
  const runId = await fleet.startRun('crash');
  runIds.push(runId);
  await waitForTask(fleet.sql, runId, 'work', (r) => r.status === 'RUNNING', 20_000, 10);
  victim.kill('SIGKILL');
  await victim.exited;
  fleet.spawn('worker');
  expect(await fleet.waitForRuns([runId])).toEqual(new Map([[runId, 'SUCCESS']]));
  expect(await taskRow(fleet.sql, runId, 'work')).toMatchObject({
    status: 'SUCCESS',
    attempt: 2,
    output: '2',
  });
  expect(await findViolations(fleet.sql, runIds)).toEqual([]);
});

it('discards the late result of a worker frozen past the heartbeat timeout, which then aborts', async () => {
  for (const label of fleet.running('worker')) await fleet.processes.get(label)?.stop();
  const frozen = fleet.spawn('worker');
  const runId = await fleet.startRun('crash');
  runIds.push(runId);
  const first = await waitForTask(fleet.sql, runId, 'work', (r) => r.status === 'RUNNING' && r.attempt === 1);
  frozen.kill('SIGSTOP');
  const other = fleet.spawn('worker');
  expect(await fleet.waitForRuns([runId])).toEqual(new Map([[runId, 'SUCCESS']]));
  const won = await taskRow(fleet.sql, runId, 'work');
  expect(won).toMatchObject({ status: 'SUCCESS', attempt: 2, output: '2' });
  expect(won.worker_id).not.toBe(first.worker_id);

  const resumedAt = Date.now();
  frozen.kill('SIGCONT');
  // Its next heartbeat finds the row no longer its own and aborts the handler (sleep 30 would
  // otherwise run for another half minute); the abort's result then matches no row.
  const abortedAt = await waitFor(
    () => {
      const line = frozen.logs().find((l) => l.includes('task aborted'));
      return line
        ? Date.parse((JSON.parse(line.slice(line.indexOf('{'))) as { time: string }).time)
        : undefined;
    },
    { timeoutMs: 5_000, message: `the frozen worker did not abort\n${fleet.logs()}` },
  );
  expect(abortedAt - resumedAt).toBeLessThan(Number(FAULT_ENV.RELAY_HEARTBEAT_INTERVAL_MS) + 750);
  await waitFor(() => frozen.logs().some((l) => l.includes('result discarded')), {
    timeoutMs: 5_000,
    message: `the late result was not discarded\n${fleet.logs()}`,
  });
  expect(await taskRow(fleet.sql, runId, 'work')).toEqual(won);
  expect(frozen.isRunning() && other.isRunning()).toBe(true);
  expect(await findViolations(fleet.sql, runIds)).toEqual([]);
});
