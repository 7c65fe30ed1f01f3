import type { WorkflowDefinition } from '@relay/workflow';
import { describe, expect, it } from 'vitest';
import { task, workflow } from '../test/fixtures.js';
import { createDefinitionCache, definitionKey } from './definitions.js';

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
      name: 'never keeps a definition larger than the bound',
      maxTasks: 3,
      gets: ['big', 'big'],
      loads: ['big', 'big'],
    },
  ])('$name', async ({ maxTasks, gets, loads }) => {
    const { asked, load } = loaderOf({ a: 3, b: 3, c: 3, big: 4 });
    const cache = createDefinitionCache(load, { maxTasks });
    for (const id of gets) {
      const got = await cache.getMany([key(id)]);
      expect(got.get(definitionKey(id, 1))?.definition.id).toBe(id);
    }
    expect(asked).toEqual(loads);
    expect(cache.tasks).toBeLessThanOrEqual(maxTasks);
  });

  it('counts the tasks it holds and leaves out missing versions', async () => {
    const { load } = loaderOf({ a: 2, b: 5 });
    const cache = createDefinitionCache(load, { maxTasks: 100 });
    const got = await cache.getMany([key('a'), key('b'), key('nope')]);
    expect([...got.keys()].sort()).toEqual(['a@1', 'b@1']);
    expect({ size: cache.size, tasks: cache.tasks }).toEqual({ size: 2, tasks: 7 });
  });
});
