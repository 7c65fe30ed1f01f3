import { checkInvariants } from '@relay/invariants';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Fleet, startFleet } from './fleet.js';

// Streams stay bounded: with RELAY_STREAM_MAXLEN=1000, 3,600 tasks flow through every stream and
// none grows past the bound (plus the slack of approximate trimming: Redis trims whole macro nodes
// of up to 100 entries). A backlog larger than the bound would lose unread events to trimming; the
// reaper's reconciler re-derives those from Postgres (covered by the fault suite), so here the runs
// follow each other and every event is read before it is trimmed.
const MAXLEN = 1000;
const SLACK = 100;
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ label: 'bounded', env: { RELAY_STREAM_MAXLEN: String(MAXLEN) } });
}, 60_000);

afterAll(async () => {
  await fleet?.stop();
});

it('keeps every stream under RELAY_STREAM_MAXLEN while 3,600 tasks run', async () => {
  const tasks = Array.from({ length: 300 }, (_, i) => `  t${i}: { needs: [root], type: noop }`).join('\n');
  await fleet.applyYaml(`id: wide\ntasks:\n  root: { type: noop }\n${tasks}\n`);
  const streams = ['runs', 'ready', 'results', 'lifecycle', 'work:default'].map(
    (s) => `${fleet.prefix}:${s}`,
  );
  const longest = new Map<string, number>();
  const sample = async () => {
    const lengths = await Promise.all(streams.map((s) => fleet.redis.xlen(s)));
    for (const [i, n] of lengths.entries()) {
      longest.set(streams[i]!, Math.max(longest.get(streams[i]!) ?? 0, n));
    }
  };
  const sampler = setInterval(() => void sample().catch(() => undefined), 25);
  const runIds: string[] = [];
  try {
    for (let i = 0; i < 12; i += 1) {
      const runId = await fleet.startRun('wide');
      runIds.push(runId);
      expect((await fleet.waitForRun(runId, 30_000)).status).toBe('SUCCESS');
    }
  } finally {
    clearInterval(sampler);
  }
  await sample();
  const report = JSON.stringify([...longest]);
  // every stream that carries a per-task event was exercised past the bound, and trimmed back
  for (const s of ['ready', 'results', 'work:default'].map((x) => `${fleet.prefix}:${x}`)) {
    expect(longest.get(s), report).toBeGreaterThan(MAXLEN * 0.9);
  }
  expect(Math.max(...longest.values()), report).toBeLessThanOrEqual(MAXLEN + SLACK);
  expect(await checkInvariants(fleet.sql, { runIds })).toEqual([]);
}, 120_000);
