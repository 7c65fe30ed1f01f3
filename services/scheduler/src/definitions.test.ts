import { createTestDatabase } from '@relay/testing';
import type { TaskDefinition, WorkflowDefinition } from '@relay/workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertWorkflow, task, workflow } from '../test/fixtures.js';
import { createDefinitionCache, definitionKey } from './definitions.js';
import { createSchedulerRepository } from './repository.js';

/** A loader over fixed definitions of `n` tasks each, recording every key it was asked for. */
function loaderOf(sizes: Record<string, number>) {
  const asked: string[] = [];
  const load = async (keys: readonly { workflowId: string; version: number }[]) =>
    keys.flatMap((k) => {
      asked.push(k.workflowId);
      const n = sizes[k.workflowId];
      if (n === undefined) return [];
      const definition: WorkflowDefinition = workflow(
        k.workflowId,
        Array.from({ length: n }, (_, i) => task(`t${i}`)),
      );
      return [{ workflowId: k.workflowId, version: k.version, definition }];
    });
  return { asked, load };
}

const key = (workflowId: string) => ({ workflowId, version: 1 });

describe('createDefinitionCache', () => {
  it.each([
    { name: 'keeps everything under the bound', maxTasks: 10, gets: ['a', 'b', 'a', 'b'], loads: ['a', 'b'] },
    {
      name: 'evicts the least recently used first',
      maxTasks: 7,
      gets: ['a', 'b', 'a', 'c', 'a', 'b'],
      loads: ['a', 'b', 'c', 'b'],
    },
    {
      name: 'keeps a definition larger than the bound alone, not compiling it again for every call',
      maxTasks: 3,
      gets: ['a', 'big', 'big', 'big', 'a', 'a', 'big'],
      loads: ['a', 'big', 'a', 'big'],
      resident: 4,
    },
    {
      name: 'evicts a definition larger than the bound for the next one',
      maxTasks: 3,
      gets: ['big', 'a', 'a', 'big'],
      loads: ['big', 'a', 'big'],
      resident: 4,
    },
  ])('$name', async ({ maxTasks, gets, loads, resident }) => {
    const { asked, load } = loaderOf({ a: 3, b: 3, c: 3, big: 4 });
    const cache = createDefinitionCache(load, { maxTasks });
    for (const id of gets) {
      const got = await cache.getMany([key(id)]);
      expect(got.get(definitionKey(id, 1))?.workflowId).toBe(id);
      expect(cache.tasks).toBeLessThanOrEqual(
        Math.max(maxTasks, got.get(definitionKey(id, 1))?.definition.tasks.length ?? 0),
      );
    }
    expect(asked).toEqual(loads);
    if (resident !== undefined) expect(cache.tasks).toBe(resident);
  });

  it('counts the tasks it holds and leaves out missing versions', async () => {
    const { load } = loaderOf({ a: 2, b: 5 });
    const cache = createDefinitionCache(load, { maxTasks: 100 });
    const got = await cache.getMany([key('a'), key('b'), key('nope')]);
    expect([...got.keys()].sort()).toEqual(['a@1', 'b@1']);
    expect({ size: cache.size, tasks: cache.tasks }).toEqual({ size: 2, tasks: 7 });
  });
});

describe('loadDefinitions', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  const pick = ({ id, needs, queue, retries, backoff, requiresApproval }: TaskDefinition) => ({
    id,
    needs,
    queue,
    retries,
    backoff,
    requiresApproval,
  });

  it('reads what the scheduler needs of each task, in document order, with the defaults put back', async () => {
    const def = workflow('slim', [
      task('a'),
      task('b', ['a'], {
        type: 'http',
        with: { url: 'https://example.com/', body: 'x'.repeat(1000) },
        timeoutMs: 30_000,
        queue: 'gpu',
        retries: 3,
        backoff: { initialMs: 5, factor: 1.5, maxMs: 100 },
      }),
      task('c', ['a', 'b', 'a'], { requiresApproval: true }),
      // The default backoff written in another key order is still the default.
      task('d', ['c'], { backoff: { maxMs: 60_000, factor: 2, initialMs: 1000 } }),
      task('e', [], { retries: 1, queue: '' }),
    ]);
    await insertWorkflow(db.sql, def);
    const rows = await createSchedulerRepository(db.sql).loadDefinitions([
      { workflowId: 'slim', version: 1 },
      { workflowId: 'slim', version: 2 },
    ]);
    expect(rows).toEqual([{ workflowId: 'slim', version: 1, definition: { tasks: def.tasks.map(pick) } }]);
  });

  it('reads a 10,000-task fan-out whole', async () => {
    const middle = Array.from({ length: 10_000 }, (_, i) => task(`t${i}`, ['root']));
    const def = workflow('wide', [
      task('root'),
      ...middle,
      task(
        'sink',
        middle.map((t) => t.id),
      ),
    ]);
    await insertWorkflow(db.sql, def);
    const [row] = await createSchedulerRepository(db.sql).loadDefinitions([
      { workflowId: 'wide', version: 1 },
    ]);
    expect(row?.definition.tasks).toEqual(def.tasks.map(pick));
  });
});
