import { waitFor } from '@relay/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findViolations } from './check.js';
import { type FaultFleet, startFaultFleet } from './fleet.js';
import { replayStreams, streamsDrained } from './infra.js';
import { waitForProgress } from './progress.js';
import { taskRows } from './rows.js';

// At-least-once delivery taken literally: every entry of every stream of the prefix is appended a
// second time (XRANGE then XADD), once after runs finished and once while others run.
let fleet: FaultFleet;

beforeAll(async () => {
  fleet = await startFaultFleet({ label: 'duplicates', workers: 2 });
  await fleet.applyYaml(`
id: twice
tasks:
  a: { type: shell, with: { command: 'echo "$RELAY_ATTEMPT"' } }
  b: { needs: [a], type: sleep, with: { duration: 400ms } }
  c: { needs: [a], type: shell, retries: 2, backoff: { initial: 100ms }, with: { command: 'test "$RELAY_ATTEMPT" -ge 2' } }
  d: { needs: [b, c], type: noop }
`);
});

afterAll(async () => {
  await fleet?.stop();
});

it('changes nothing when every event is delivered twice, after and during runs', async () => {
  const done: string[] = [];
  for (let i = 0; i < 4; i += 1) done.push(await fleet.startRun('twice'));
  await fleet.waitForRuns(done, 30_000);
  const before = await taskRows(fleet.sql, done);

  const running: string[] = [];
  for (let i = 0; i < 4; i += 1) running.push(await fleet.startRun('twice'));
  await waitForProgress(fleet.sql, running, 1);
  const replayed = await replayStreams(fleet.redis, fleet.prefix);
  expect([...replayed.values()].reduce((a, b) => a + b, 0)).toBeGreaterThan(0);

  const statuses = await fleet.waitForRuns(running, 30_000);
  expect([...statuses.values()]).toEqual(running.map(() => 'SUCCESS'));
  // Let the duplicates drain: every group has read and acked every entry.
  await waitFor(() => streamsDrained(fleet.redis, fleet.prefix), {
    timeoutMs: 15_000,
    message: 'the replayed events were not all handled',
  });
  expect(await taskRows(fleet.sql, done)).toEqual(before);
  const after = await taskRows(fleet.sql, running);
  expect(after.map((r) => [r.task_id, r.status, r.attempt])).toEqual(
    running.flatMap(() => [
      ['a', 'SUCCESS', 1],
      ['b', 'SUCCESS', 1],
      ['c', 'SUCCESS', 2],
      ['d', 'SUCCESS', 1],
    ]),
  );
  expect(await findViolations(fleet.sql, [...done, ...running])).toEqual([]);
});
