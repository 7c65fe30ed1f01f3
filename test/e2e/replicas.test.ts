import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Fleet, startFleet } from './fleet.js';
import { findViolations } from './invariants.js';

// Two replicas of every service (ingest aside, which is stateless) work the same runs: every
// task's final state is written once and never before its needs succeeded.
let fleet: Fleet;

beforeAll(async () => {
  fleet = await startFleet({ label: 'replicas', replicas: 2, workers: 2 });
}, 60_000);

afterAll(async () => {
  await fleet?.stop();
});

it('two replicas of each service run 20 concurrent DAGs correctly', async () => {
  const layers = [5, 10, 5, 1];
  const lines: string[] = [];
  let previous: string[] = [];
  layers.forEach((width, layer) => {
    const current = Array.from({ length: width }, (_, i) => `l${layer}-${i}`);
    for (const id of current) {
      const needs = previous.filter((_, j) => (j + id.length) % 2 === 0 || previous.length === 1 || j === 0);
      lines.push(`  ${id}: { type: noop${needs.length ? `, needs: [${needs.join(', ')}]` : ''} }`);
    }
    previous = current;
  });
  await fleet.applyYaml(`id: layered\ntasks:\n${lines.join('\n')}\n`);
  const runIds = await Promise.all(Array.from({ length: 20 }, () => fleet.startRun('layered')));
  for (const runId of runIds) {
    const run = await fleet.waitForRun(runId, 60_000);
    expect(run.status).toBe('SUCCESS');
    expect(run.tasks.every((t) => t.attempt === 1)).toBe(true);
    expect(await findViolations(fleet.sql, fleet.redis, fleet.prefix, runId)).toEqual([]);
  }
});
