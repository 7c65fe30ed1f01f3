import { UnknownNodeError } from './errors.js';
import type { Dependents, Graph } from './graph.js';

/** Progress of a task as far as readiness is concerned: `done` means it succeeded. */
export type TaskProgress = 'done' | 'pending';

/**
 * The tasks that become ready when `succeeded` succeeds: its dependents whose every need has
 * succeeded (`succeeded` itself counts as succeeded whatever `isSucceeded` says of it; a need that
 * names no node never counts as succeeded, whatever `isSucceeded` says of it). Each task
 * once, in graph order. It does not look at the dependents' own state: under at-least-once
 * delivery a duplicate success yields the same list again, and the caller's guarded write
 * (`PENDING -> READY`) keeps that harmless.
 *
 * O(V+E) scanning the graph; O(needs of the dependents) when `dependents` (from `dependentsOf`)
 * is given. Calling it once per need of a join with k needs costs O(k^2) in all; where that
 * matters keep a count of unfinished needs per task instead (the scheduler's `pending_needs`).
 * @throws UnknownNodeError when `succeeded` is not a node.
 */
export function readyAfter(
  graph: Graph,
  succeeded: string,
  isSucceeded: (id: string) => boolean,
  dependents?: Dependents,
): string[] {
  if (!graph.has(succeeded)) throw new UnknownNodeError(succeeded);
  const isMet = (need: string) => need === succeeded || (graph.has(need) && isSucceeded(need));
  const result: string[] = [];
  if (dependents !== undefined) {
    for (const id of dependents.get(succeeded) ?? []) {
      if ((graph.get(id) ?? []).every(isMet)) result.push(id);
    }
    return result;
  }
  for (const [id, needs] of graph) {
    if (needs.includes(succeeded) && needs.every(isMet)) result.push(id);
  }
  return result;
}

/**
 * Every task that is not done and whose needs are all done, in graph order. A task missing from
 * `statuses` counts as pending; a need that names no node is never met. O(V+E).
 */
export function readySet(graph: Graph, statuses: ReadonlyMap<string, TaskProgress>): string[] {
  const isDone = (id: string) => statuses.get(id) === 'done';
  const isMet = (need: string) => graph.has(need) && isDone(need);
  const result: string[] = [];
  for (const [id, needs] of graph) {
    if (!isDone(id) && needs.every(isMet)) result.push(id);
  }
  return result;
}
