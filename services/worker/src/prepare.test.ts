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

describe('DefinitionCache', () => {
  /** A loader over definitions of `sizes[id]` tasks, recording what it was asked for. */
  const loaderOf = (sizes: Record<string, number>) => {
    const asked: string[] = [];
    return {
      asked,
      repo: {
        loadDefinitions: async (pairs: readonly { workflowId: string; version: number }[]) =>
          pairs.flatMap((p) => {
            asked.push(p.workflowId);
            const n = sizes[p.workflowId];
            if (n === undefined) return [];
            const tasks = Array.from({ length: n }, (_, i) => ({
              id: `t${i}`,
              type: 'noop',
              with: {},
              timeoutMs: null,
            }));
            return [{ workflowId: p.workflowId, version: p.version, tasks }];
          }),
      },
    };
  };
  const pair = (workflowId: string) => ({ workflowId, version: 1 });

  it('is bounded by the tasks it holds, least recently used out first', async () => {
    const { asked, repo } = loaderOf({ a: 3, b: 3, c: 3 });
    const cache = new DefinitionCache(repo, 7);
    for (const id of ['a', 'b', 'a', 'c', 'a', 'b']) {
      const got = await cache.getMany([pair(id)]);
      expect(got.get(`${id}@1`)?.tasks.size).toBe(3);
    }
    expect(asked).toEqual(['a', 'b', 'c', 'b']);
    expect(cache.size).toBe(2);
  });

  it('keeps one definition larger than the bound, and returns every definition a call loads', async () => {
    const { asked, repo } = loaderOf({ a: 2, big: 9 });
    const cache = new DefinitionCache(repo, 5);
    const both = await cache.getMany([pair('a'), pair('big'), pair('gone')]);
    expect([...both.keys()].sort()).toEqual(['a@1', 'big@1']);
    await cache.getMany([pair('big')]);
    expect(asked).toEqual(['a', 'big', 'gone']);
    expect(cache.size).toBe(1);
  });
});
