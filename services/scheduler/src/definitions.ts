import { dependentsOf, graphFrom, roots } from '@relay/dag';
import type { TaskDefinition, WorkflowDefinition } from '@relay/workflow';

/** A pinned workflow definition with the lookups the scheduler needs, computed once per version. */
export interface CompiledDefinition {
  readonly workflowId: string;
  readonly version: number;
  readonly definition: WorkflowDefinition;
  readonly tasks: ReadonlyMap<string, TaskDefinition>;
  /** task id -> ids of the tasks that need it. */
  readonly dependents: ReadonlyMap<string, readonly string[]>;
  /** Number of distinct needs per task (a need listed twice counts once, as in `@relay/dag`). */
  readonly needCounts: ReadonlyMap<string, number>;
  readonly roots: readonly string[];
}

/** Key of a pinned definition in the cache. */
export function definitionKey(workflowId: string, version: number): string {
  return `${workflowId}@${version}`;
}

/** Builds the lookups of one definition: O(V+E). */
export function compileDefinition(
  workflowId: string,
  version: number,
  definition: WorkflowDefinition,
): CompiledDefinition {
  const graph = graphFrom(definition.tasks);
  const needCounts = new Map<string, number>();
  for (const task of definition.tasks) needCounts.set(task.id, new Set(task.needs).size);
  return {
    workflowId,
    version,
    definition,
    tasks: new Map(definition.tasks.map((task) => [task.id, task])),
    dependents: dependentsOf(graph),
    needCounts,
    roots: roots(graph),
  };
}

/** Loads the definitions of the given (workflow, version) pairs; pairs without a row are left out. */
export type DefinitionLoader = (
  keys: readonly { workflowId: string; version: number }[],
) => Promise<{ workflowId: string; version: number; definition: WorkflowDefinition }[]>;

/** Default bound of a {@link DefinitionCache}: total tasks over its compiled definitions. */
export const DEFAULT_CACHE_MAX_TASKS = 500_000;

/**
 * In-memory cache of pinned definitions. A workflow version never changes, so entries never go stale; the
 * cache is an LRU bounded by the total task count of its entries (a compiled 100,000-task definition
 * costs tens of MB), and a definition larger than the bound is compiled for the call and not kept.
 */
export interface DefinitionCache {
  /** Returns the compiled definitions of `keys` (by {@link definitionKey}), loading the missing ones in one query. */
  getMany(keys: readonly { workflowId: string; version: number }[]): Promise<Map<string, CompiledDefinition>>;
  /** Number of cached definitions. */
  readonly size: number;
  /** Total tasks over the cached definitions. */
  readonly tasks: number;
}

/** Creates a {@link DefinitionCache} over `load`, keeping at most `maxTasks` tasks (default {@link DEFAULT_CACHE_MAX_TASKS}). */
export function createDefinitionCache(
  load: DefinitionLoader,
  options: { maxTasks?: number } = {},
): DefinitionCache {
  const maxTasks = options.maxTasks ?? DEFAULT_CACHE_MAX_TASKS;
  // Map iteration order is insertion order: re-inserting on a hit makes the first key the least recent.
  const cache = new Map<string, CompiledDefinition>();
  let tasks = 0;
  const evictFor = (incoming: number): void => {
    for (const [k, def] of cache) {
      if (tasks + incoming <= maxTasks) return;
      cache.delete(k);
      tasks -= def.definition.tasks.length;
    }
  };
  return {
    get size() {
      return cache.size;
    },
    get tasks() {
      return tasks;
    },
    async getMany(keys) {
      const result = new Map<string, CompiledDefinition>();
      const missing = new Map<string, { workflowId: string; version: number }>();
      for (const key of keys) {
        const k = definitionKey(key.workflowId, key.version);
        const hit = cache.get(k);
        if (hit) {
          cache.delete(k);
          cache.set(k, hit);
          result.set(k, hit);
        } else missing.set(k, key);
      }
      if (missing.size === 0) return result;
      for (const row of await load([...missing.values()])) {
        const compiled = compileDefinition(row.workflowId, row.version, row.definition);
        const k = definitionKey(row.workflowId, row.version);
        result.set(k, compiled);
        const size = compiled.definition.tasks.length;
        if (size > maxTasks) continue;
        evictFor(size);
        cache.set(k, compiled);
        tasks += size;
      }
      return result;
    },
  };
}
