import { DuplicateNodeError } from './errors.js';

/**
 * A dependency graph: node id -> the ids it needs (its dependencies). Map iteration order is the
 * graph's order; every function of this package is deterministic in it. A need listed twice
 * counts once. Needs that name no node (report them with {@link unknownNeeds}) are left out by
 * ordering and reachability (cycles, topological order, upstream/downstream) and are never met
 * for readiness (`readyAfter`, `readySet`).
 */
export type Graph = ReadonlyMap<string, readonly string[]>;

/** Reverse edges of a {@link Graph}: node id -> the nodes that need it, as built by `dependentsOf`. */
export type Dependents = ReadonlyMap<string, readonly string[]>;

/** A `needs` entry that names no node of the graph. */
export interface UnknownNeed {
  readonly task: string;
  readonly need: string;
}

/**
 * Builds a {@link Graph} from tasks, keeping their order and copying each `needs` array.
 * @throws DuplicateNodeError when two tasks share an id.
 */
export function graphFrom(
  tasks: Iterable<{ readonly id: string; readonly needs: readonly string[] }>,
): Graph {
  const graph = new Map<string, readonly string[]>();
  for (const task of tasks) {
    if (graph.has(task.id)) throw new DuplicateNodeError(task.id);
    graph.set(task.id, [...task.needs]);
  }
  return graph;
}

/** The nodes with no needs at all, in graph order. O(V). */
export function roots(graph: Graph): string[] {
  const result: string[] = [];
  for (const [id, needs] of graph) if (needs.length === 0) result.push(id);
  return result;
}

/**
 * Every `needs` entry that names no node, in graph order, each (task, need) pair once. O(V+E).
 */
export function unknownNeeds(graph: Graph): UnknownNeed[] {
  const result: UnknownNeed[] = [];
  for (const [task, needs] of graph) {
    let reported: Set<string> | undefined;
    for (const need of needs) {
      if (graph.has(need) || reported?.has(need)) continue;
      reported ??= new Set();
      reported.add(need);
      result.push({ task, need });
    }
  }
  return result;
}

/**
 * Reverse edges, computed once in O(V+E): every node maps to the nodes that need it (possibly
 * none), each dependent once and in graph order. Pass the result to `readyAfter` or
 * `downstreamOf` to answer repeated questions without rescanning the graph.
 */
export function dependentsOf(graph: Graph): Map<string, string[]> {
  const result = new Map<string, string[]>();
  for (const id of graph.keys()) result.set(id, []);
  for (const [id, needs] of graph) {
    for (const need of needs) {
      const list = result.get(need);
      // All pushes for `id` happen in this loop, so a duplicate need finds `id` last in the list.
      if (list !== undefined && list[list.length - 1] !== id) list.push(id);
    }
  }
  return result;
}
