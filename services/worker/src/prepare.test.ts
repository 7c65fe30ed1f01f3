// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${{ }} templates are workflow syntax under test
import { createTestDatabase } from '@relay/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertRun, insertWorkflow, task } from '../test/fixtures.js';
import { DefinitionCache, prepareTasks } from './prepare.js';
import { createWorkerRepository } from './repository.js';
import type { ClaimedTask } from './types.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
const WF = 'prep-wf';

beforeAll(async () => {
  db = await createTestDatabase();
  await insertWorkflow(db.sql, WF, [
    task('plain', { with: { a: 1 } }),
    task('timed', { type: 'sleep', with: { duration: '1ms' }, timeoutMs: 5000 }),
    task('reads', { needs: ['plain'], with: { v: '${{ input.v }}', up: '${{ tasks.plain.output.x }}' } }),
  ]);
});

afterAll(async () => {
  await db?.drop();
});

describe('prepareTasks over the slim definition', () => {
  const claim = (runId: string, taskId: string, version = 1): ClaimedTask => ({
    id: `${runId}:${taskId}`,
    runId,
    taskId,
    attempt: 1,
    queue: 'default',
    workflowId: WF,
    workflowVersion: version,
  });

  it.each([
    { taskId: 'plain', version: 1, expected: { ok: true, type: 'noop', timeoutMs: null, input: { a: 1 } } },
    {
      taskId: 'timed',
      version: 1,
      expected: { ok: true, type: 'sleep', timeoutMs: 5000, input: { duration: '1ms' } },
    },
    {
      taskId: 'reads',
      version: 1,
      expected: { ok: true, type: 'noop', timeoutMs: null, input: { v: 7, up: 'y' } },
    },
    { taskId: 'gone', version: 1, error: `task "gone" is not in workflow ${WF} version 1` },
    { taskId: 'plain', version: 9, error: `no definition found for workflow ${WF} version 9` },
  ])('$taskId at version $version', async ({ taskId, version, expected, error }) => {
    const repo = createWorkerRepository(db.sql);
    const runId = await insertRun(db.sql, WF, { input: { v: 7 }, queued: [], done: { plain: { x: 'y' } } });
    const [p] = await prepareTasks([claim(runId, taskId, version)], {
      repo,
      definitions: new DefinitionCache(repo),
    });
    if (error) {
      expect(p).toMatchObject({ ok: false, error });
      return;
    }
    expect(p?.ok).toBe(true);
    if (!p?.ok) return;
    expect({ ok: p.ok, type: p.task.type, timeoutMs: p.task.timeoutMs, input: p.input }).toEqual(expected);
  });
});
