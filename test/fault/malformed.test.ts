import { waitFor } from '@relay/testing';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findViolations } from './check.js';
import { type FaultFleet, startFaultFleet } from './fleet.js';

// Bad input never stops a consumer: malformed entries are dead-lettered with a reason (the control
// stream, read without a group, skips them) and the fleet goes on; a poison task that kills every
// worker running it fails with "worker lost" once its attempts run out, while other runs flow.
let fleet: FaultFleet;

beforeAll(async () => {
  fleet = await startFaultFleet({ label: 'malformed', workers: 2, supervise: true });
  await fleet.applyYaml(`
id: healthy
tasks:
  a: { type: noop, retries: 4 }
  b: { needs: [a], type: sleep, retries: 4, with: { duration: 100ms } }
`);
  await fleet.applyYaml(`
id: poison
tasks:
  kill: { type: shell, retries: 1, with: { command: 'kill -9 $PPID; sleep 5' } }
`);
});

afterAll(async () => {
  await fleet?.stop();
});

const envelope = (type: string, data: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    id: `bad-${Math.random()}`,
    type,
    version: 1,
    occurredAt: new Date().toISOString(),
    source: 'fault-test',
    data,
    ...extra,
  });

/** Label -> the fields of one malformed entry. */
const MALFORMED: [string, string[]][] = [
  ['non-JSON', ['event', '{"id": not json']],
  ['no event field', ['payload', '{}']],
  ['missing fields', ['event', envelope('TaskSucceeded', { runId: 'r' })]],
  ['unknown type', ['event', envelope('TaskExploded', { runId: 'r' })]],
  ['oversize', ['event', envelope('RunCancelRequested', { runId: 'r', reason: 'x'.repeat(70_000) })]],
  ['NUL byte', ['event', envelope('RunCancelRequested', { runId: 'r\u0000' })]],
];

it('dead-letters malformed entries of every stream with a reason and keeps working', async () => {
  const names = ['runs', 'results', 'ready', 'work:default'].map((s) => `${fleet.prefix}:${s}`);
  // Make sure every consumer group exists and is reading before the bad entries arrive.
  await fleet.waitForRuns([await fleet.startRun('healthy')]);
  const added = new Map<string, string>();
  for (const stream of [...names, `${fleet.prefix}:control`]) {
    for (const [label, fields] of MALFORMED) {
      const id = await fleet.redis.xadd(stream, '*', ...fields);
      if (id) added.set(`${stream} ${id}`, label);
    }
  }
  const deadStream = `${fleet.prefix}:dead`;
  const letters = await waitFor(
    async () => {
      const entries = await fleet.redis.xrange(deadStream, '-', '+');
      // A dead letter's fields: reason, stream, id, raw, group, consumer.
      const parsed = entries.map(([, f]) => {
        const m = new Map<string, string>();
        for (let i = 0; i + 1 < f.length; i += 2) m.set(f[i] ?? '', f[i + 1] ?? '');
        return { stream: m.get('stream') ?? '', id: m.get('id') ?? '', reason: m.get('reason') ?? '' };
      });
      return parsed.length >= names.length * MALFORMED.length ? parsed : undefined;
    },
    { timeoutMs: 20_000, message: `malformed entries were not dead-lettered\n${fleet.logs(10)}` },
  );
  for (const stream of names) {
    const mine = letters.filter((l) => l.stream === stream);
    expect(mine.map((l) => added.get(`${stream} ${l.id}`)).sort(), stream).toEqual(
      MALFORMED.map(([label]) => label).sort(),
    );
    for (const l of mine) expect(l.reason.length, `${stream} ${l.id}`).toBeGreaterThan(0);
  }
  // The control stream is a broadcast: workers skip its bad entries and stay up.
  const ids = [await fleet.startRun('healthy'), await fleet.startRun('healthy')];
  expect([...(await fleet.waitForRuns(ids)).values()]).toEqual(['SUCCESS', 'SUCCESS']);
  expect(fleet.exits).toEqual([]);
  expect(await findViolations(fleet.sql, ids)).toEqual([]);
});

it('fails a task that kills its worker with "worker lost" while other runs flow', async () => {
  const poison = await fleet.startRun('poison');
  const healthy: string[] = [];
  for (let i = 0; i < 6; i += 1) healthy.push(await fleet.startRun('healthy'));
  const statuses = await fleet.waitForRuns([poison, ...healthy], 60_000);
  expect(statuses.get(poison)).toBe('FAILED');
  expect(healthy.map((id) => statuses.get(id))).toEqual(healthy.map(() => 'SUCCESS'));
  const [row] = await fleet.sql<{ status: string; attempt: number; error: string }[]>`
    SELECT status, attempt, error FROM task_runs WHERE run_id = ${poison}`;
  expect(row).toMatchObject({ status: 'FAILED', attempt: 2 });
  expect(row?.error).toMatch(/worker lost/);
  // Each attempt took one worker down (SIGKILL from its own shell); the supervisor replaced them.
  expect(fleet.exits.filter((e) => e.service === 'worker').length).toBe(2);
  await waitFor(() => fleet.running('worker').length === 2);
  expect(await findViolations(fleet.sql, [poison, ...healthy])).toEqual([]);
});
