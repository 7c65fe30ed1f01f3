import { dependentsOf, graphFrom } from '@relay/dag';
import { WeightedLru } from '@relay/runtime';
import type { TaskDefinition } from '@relay/workflow';

/**
 * What the scheduler needs of a task: its place in the graph, what its task_run starts with, and its
 * retry backoff. Not `with`, `type` or `timeoutMs` (the worker's): a workflow's `with` blocks can be most
 * of its size, and the scheduler keeps up to DEFAULT_CACHE_MAX_TASKS tasks in memory.
 */
export type SchedulerTask = Pick<
  TaskDefinition,
  'id' | 'needs' | 'queue' | 'retries' | 'backoff' | 'requiresApproval'
>;

/** A pinned workflow version as the scheduler holds it: its tasks, in document order. */
export interface SchedulerDefinition {
  readonly tasks: readonly SchedulerTask[];
}

/** A pinned workflow definition with the lookups the scheduler needs, computed once per version. */
export interface CompiledDefinition {
  readonly workflowId: string;
  readonly version: number;
  readonly definition: SchedulerDefinition;
  readonly tasks: ReadonlyMap<string, SchedulerTask>;
  /** task id -> ids of the tasks that need it; a task no other needs has no entry. */
  readonly dependents: ReadonlyMap<string, readonly string[]>;
  /** Number of distinct needs per task (a need listed twice counts once, as in `@relay/dag`). */
  readonly needCounts: ReadonlyMap<string, number>;
}

/** Key of a pinned definition in the cache. */
export function definitionKey(workflowId: string, version: number): string {
  return `${workflowId}@${version}`;
}

/** Builds the lookups of one definition: O(V+E). */
export function compileDefinition(
  workflowId: string,
  version: number,
  definition: SchedulerDefinition,
): CompiledDefinition {
  const needCounts = new Map<string, number>();
  for (const task of definition.tasks) needCounts.set(task.id, new Set(task.needs).size);
  // Only non-empty lists are kept: in a 100,000-wide fan-out nearly every task has none.
  const dependents = dependentsOf(graphFrom(definition.tasks));
  for (const [id, list] of dependents) if (list.length === 0) dependents.delete(id);
  return {
    workflowId,
    version,
    definition,
    tasks: new Map(definition.tasks.map((task) => [task.id, task])),
    dependents,
    needCounts,
  };
}

/** Loads the definitions of the given (workflow, version) pairs; pairs without a row are left out. */
export type DefinitionLoader = (
  keys: readonly { workflowId: string; version: number }[],
) => Promise<{ workflowId: string; version: number; definition: SchedulerDefinition }[]>;

/**
 * Default bound of a {@link DefinitionCache}: total tasks over its compiled definitions. A cached task
 * costs about 450 bytes of heap (measured on a 100,000-task fan-out of no-op tasks, lookups included;
 * 575 when the whole definition was kept, `with` blocks and all), so 100,000 is about 45 MB, under a
 * fifth of a service's old space (SERVICE_MAX_OLD_SPACE_MB, 256). The old default, 500,000, came to
 * about 290 MB: more than the heap, so a scheduler that met enough big workflows would have collected
 * garbage without end, then died.
 */
export const DEFAULT_CACHE_MAX_TASKS = 100_000;

/**
 * In-memory cache of pinned definitions. A workflow version never changes, so entries never go stale; the
 * cache is an LRU bounded by the total task count of its entries. A definition larger than the bound is
 * kept alone (everything else evicted): every batch of its run needs it, and compiling it again for each
 * would cost more than the memory, which its calls hold anyway.
 */
export interface DefinitionCache {
  /** Returns the compiled definitions of `keys` (by {@link definitionKey}), loading the missing ones in one query. */
  getMany(keys: readonly { workflowId: string; version: number }[]): Promise<Map<string, CompiledDefinition>>;
  /** Number of cached definitions. */
  readonly size: number;
  /** Total tasks over the cached definitions. */
  readonly tasks: number;
}

/**
 * Creates a {@link DefinitionCache} over `load`, keeping at most `maxTasks` tasks (default
 * {@link DEFAULT_CACHE_MAX_TASKS}), or one definition larger than that alone.
 */
export function createDefinitionCache(
  load: DefinitionLoader,
  options: { maxTasks?: number } = {},
): DefinitionCache {
  const cache = new WeightedLru<string, CompiledDefinition>(options.maxTasks ?? DEFAULT_CACHE_MAX_TASKS);
  return {
    get size() {
      return cache.size;
    },
    get tasks() {
      return cache.weight;
    },
    async getMany(keys) {
      const result = new Map<string, CompiledDefinition>();
      const missing = new Map<string, { workflowId: string; version: number }>();
      for (const key of keys) {
        const k = definitionKey(key.workflowId, key.version);
        const hit = cache.get(k);
        if (hit) result.set(k, hit);
        else missing.set(k, key);
      }
      if (missing.size === 0) return result;
      for (const row of await load([...missing.values()])) {
        const compiled = compileDefinition(row.workflowId, row.version, row.definition);
        const k = definitionKey(row.workflowId, row.version);
        result.set(k, compiled);
        cache.set(k, compiled, compiled.definition.tasks.length);
      }
      return result;
    },
  };
}
