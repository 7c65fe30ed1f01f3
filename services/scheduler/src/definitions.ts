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

/** In-memory cache of pinned definitions: a workflow version never changes, so entries never expire. */
export interface DefinitionCache {
  /** Returns the compiled definitions of `keys` (by {@link definitionKey}), loading the missing ones in one query. */
  getMany(keys: readonly { workflowId: string; version: number }[]): Promise<Map<string, CompiledDefinition>>;
  readonly size: number;
}

/** Creates a {@link DefinitionCache} over `load`. */
export function createDefinitionCache(load: DefinitionLoader): DefinitionCache {
  const cache = new Map<string, CompiledDefinition>();
  return {
    get size() {
      return cache.size;
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
        cache.set(k, compiled);
        result.set(k, compiled);
      }
      return result;
    },
  };
}
