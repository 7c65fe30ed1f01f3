import { type CompiledDefinition, definitionKey } from './definitions.js';
import { DefinitionNotFoundError } from './errors.js';
import type { MarkedSuccess, PlannedDependent, PlannedEdge, PropagationPlan } from './repository.js';

/**
 * Counts, for a batch of successes applied once each, the needs met per dependent task_run and the tasks
 * done per run. O(successes + their dependents): a fan-in of N needs into one sink yields one row for
 * the sink with `met = N`; a fan-out yields one row per dependent.
 * @throws DefinitionNotFoundError when a success's pinned definition is not in `definitions`.
 */
export function planPropagation(
  successes: readonly MarkedSuccess[],
  definitions: ReadonlyMap<string, CompiledDefinition>,
): PropagationPlan {
  const met = new Map<string, PlannedDependent>();
  const done = new Map<string, number>();
  for (const s of successes) {
    const version = s.workflowVersion ?? 0;
    const def = definitions.get(definitionKey(s.workflowId, version));
    if (!def) throw new DefinitionNotFoundError(s.workflowId, version);
    done.set(s.runId, (done.get(s.runId) ?? 0) + 1);
    for (const dependent of def.dependents.get(s.taskId) ?? []) {
      const id = `${s.runId}:${dependent}`;
      const entry = met.get(id);
      if (entry) entry.met += 1;
      else
        met.set(id, {
          id,
          runId: s.runId,
          taskId: dependent,
          met: 1,
          requiresApproval: def.tasks.get(dependent)?.requiresApproval ?? false,
        });
    }
  }
  return {
    dependents: [...met.values()],
    runs: [...done].map(([runId, n]) => ({ runId, done: n })),
  };
}

/** A success whose event named the run's pinned definition. */
export interface PinnedSuccess {
  id: string;
  runId: string;
  taskId: string;
  workflowId: string;
  workflowVersion: number;
}

/**
 * The edges from each success to its dependents' task_runs, planned before anything is marked (the
 * statement applies only the edges of the successes it marks). O(successes + their dependents).
 * Returns null when a success's definition is not in `definitions`.
 */
export function planEdges(
  successes: readonly PinnedSuccess[],
  definitions: ReadonlyMap<string, CompiledDefinition>,
): { edges: PlannedEdge[]; dependents: Map<string, { runId: string; taskId: string }> } | null {
  const edges: PlannedEdge[] = [];
  const dependents = new Map<string, { runId: string; taskId: string }>();
  for (const s of successes) {
    const def = definitions.get(definitionKey(s.workflowId, s.workflowVersion));
    if (!def) return null;
    for (const dependent of def.dependents.get(s.taskId) ?? []) {
      const dep = `${s.runId}:${dependent}`;
      edges.push({ src: s.id, dep, requiresApproval: def.tasks.get(dependent)?.requiresApproval ?? false });
      dependents.set(dep, { runId: s.runId, taskId: dependent });
    }
  }
  return { edges, dependents };
}

/** The task_run ids of the dependents of the given tasks (for re-announcing them). */
export function dependentTaskRunIds(
  tasks: readonly { runId: string; taskId: string; workflowId: string; workflowVersion: number | null }[],
  definitions: ReadonlyMap<string, CompiledDefinition>,
): string[] {
  const ids = new Set<string>();
  for (const t of tasks) {
    const def = definitions.get(definitionKey(t.workflowId, t.workflowVersion ?? 0));
    for (const dependent of def?.dependents.get(t.taskId) ?? []) ids.add(`${t.runId}:${dependent}`);
  }
  return [...ids];
}

/** The distinct pinned versions of `items`. */
export function pinnedKeys(
  items: readonly { workflowId: string; workflowVersion: number | null }[],
): { workflowId: string; version: number }[] {
  const keys = new Map<string, { workflowId: string; version: number }>();
  for (const i of items) {
    if (i.workflowVersion === null) continue;
    keys.set(definitionKey(i.workflowId, i.workflowVersion), {
      workflowId: i.workflowId,
      version: i.workflowVersion,
    });
  }
  return [...keys.values()];
}
