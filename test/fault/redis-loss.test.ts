import { streamNames } from '@relay/contracts';
import { waitFor } from '@relay/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findViolations } from './check.js';
import { type FaultFleet, startFaultFleet } from './fleet.js';
import { flushPrefix, localRestartsUnavailable, restartRedis } from './infra.js';
import { waitForNewStart, waitForProgress } from './progress.js';

const restartsUnavailable = localRestartsUnavailable();
if (restartsUnavailable) process.stderr.write(`skipping restart tests: ${restartsUnavailable}\n`);

// Postgres is the truth: losing Redis's data (the prefix's keys deleted, or the server restarted
// without persistence while every consumer is blocked in XREADGROUP) loses no run.
let fleet: FaultFleet;
const runIds: string[] = [];

beforeAll(async () => {
  fleet = await startFaultFleet({ label: 'redis-loss', workers: 2 });
  await fleet.applyYaml(`
id: chain
tasks:
  a: { type: sleep, with: { duration: 300ms } }
  b: { needs: [a], type: sleep, with: { duration: 300ms } }
  c: { needs: [a], type: sleep, with: { duration: 300ms } }
  d: { needs: [b, c], type: sleep, with: { duration: 300ms } }
  e: { needs: [d], type: noop }
`);
});

afterAll(async () => {
  await fleet?.stop();
});

async function startRuns(n: number): Promise<string[]> {
  const ids = [];
  for (let i = 0; i < n; i += 1) ids.push(await fleet.startRun('chain'));
  runIds.push(...ids);
  return ids;
}

it('finishes every run in flight after every key of the prefix is deleted', async () => {
  const ids = await startRuns(8);
  await waitForProgress(fleet.sql, ids, 1);
  const now = (await fleet.sql<{ now: Date }[]>`SELECT now()`)[0]?.now ?? new Date(0);
  const flushedAt = Date.now();
  expect(await flushPrefix(fleet.redis, fleet.prefix)).toBeGreaterThan(0);
  const resumedMs = (await waitForNewStart(fleet.sql, ids, now, 30_000)) - flushedAt;
  const statuses = await fleet.waitForRuns(ids, 60_000);
  expect([...statuses.values()]).toEqual(ids.map(() => 'SUCCESS'));
  console.info(`[fault] a task started ${resumedMs} ms after the prefix was deleted`);
  expect(await findViolations(fleet.sql, runIds)).toEqual([]);
});

it.skipIf(restartsUnavailable !== null)(
  'finishes every run in flight after Redis restarts without its data while consumers block',
  async () => {
    const ids = await startRuns(8);
    await waitForProgress(fleet.sql, ids, 1);
    const now = (await fleet.sql<{ now: Date }[]>`SELECT now()`)[0]?.now ?? new Date(0);
    const restartedAt = Date.now();
    await restartRedis();
    const resumedMs = (await waitForNewStart(fleet.sql, ids, now, 30_000)) - restartedAt;
    const statuses = await fleet.waitForRuns(ids, 60_000);
    expect([...statuses.values()]).toEqual(ids.map(() => 'SUCCESS'));
    console.info(`[fault] a task started ${resumedMs} ms after the Redis restart`);
    for (const label of ['scheduler-1', 'dispatcher-1', 'reaper-1', 'worker-1', 'worker-2', 'ingest-1']) {
      expect(fleet.processes.get(label)?.isRunning(), label).toBe(true);
    }
    expect(await findViolations(fleet.sql, runIds)).toEqual([]);
  },
);

it('starts a run whose RunStarted was lost before any scheduler read it', async () => {
  // The scheduler is away while ingest stores the runs and publishes RunStarted; then the events are
  // lost with Redis's data. Only the runs' rows remain (RUNNING, no task_runs, remaining_tasks NULL):
  // the reaper's reconciler re-announces RunStarted from them.
  for (const label of fleet.running('scheduler')) await fleet.processes.get(label)?.stop();
  const ids = await startRuns(3);
  expect(await fleet.redis.del(streamNames(fleet.prefix).runs)).toBe(1);
  const lostAt = Date.now();
  fleet.spawn('scheduler');
  const statuses = await fleet.waitForRuns(ids, 60_000);
  expect([...statuses.values()]).toEqual(ids.map(() => 'SUCCESS'));
  console.info(`[fault] runs whose RunStarted was lost finished ${Date.now() - lostAt} ms after the loss`);
  expect(await findViolations(fleet.sql, runIds)).toEqual([]);
});

it('applies an approval and a rejection whose events were lost before any scheduler read them', async () => {
  // Both tasks wait BLOCKED; the scheduler is away while ingest records the decisions and publishes
  // them, then the events are lost. The recorded decisions remain: the reconciler re-announces them.
  await fleet.applyYaml(`
id: gated
tasks:
  build: { type: noop }
  ship: { needs: [build], type: noop, requires_approval: true }
`);
  const approved = await fleet.startRun('gated');
  const rejected = await fleet.startRun('gated');
  runIds.push(approved, rejected);
  await waitFor(
    async () => {
      const [row] = await fleet.sql<{ n: number }[]>`
        SELECT count(*)::int AS n FROM task_runs
        WHERE run_id IN (${approved}, ${rejected}) AND task_id = 'ship' AND status = 'BLOCKED'`;
      return row?.n === 2 ? true : undefined;
    },
    { timeoutMs: 30_000, message: 'ship did not become BLOCKED' },
  );
  for (const label of fleet.running('scheduler')) await fleet.processes.get(label)?.stop();
  const decide = async (runId: string, verb: string, body: object) => {
    const res = await fetch(`${fleet.baseUrl}/runs/${runId}/tasks/ship/${verb}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(202);
  };
  await decide(approved, 'approve', { by: 'ana' });
  await decide(rejected, 'reject', { by: 'bo', reason: 'not today' });
  expect(await fleet.redis.del(streamNames(fleet.prefix).runs)).toBe(1);
  const lostAt = Date.now();
  fleet.spawn('scheduler');
  const statuses = await fleet.waitForRuns([approved, rejected], 60_000);
  expect([statuses.get(approved), statuses.get(rejected)]).toEqual(['SUCCESS', 'FAILED']);
  const [ship] = await fleet.sql<{ decided_by: string | null }[]>`
    SELECT decided_by FROM task_runs WHERE run_id = ${approved} AND task_id = 'ship'`;
  expect(ship?.decided_by).toBe('ana');
  console.info(
    `[fault] decisions whose events were lost were applied ${Date.now() - lostAt} ms after the loss`,
  );
  expect(await findViolations(fleet.sql, runIds)).toEqual([]);
});
